-- Tessera's script sandbox, run once when the Lua engine starts (Redis's scriptingInit). Scripts never see the
-- real globals: each runs with an environment that reads the whitelisted libraries, KEYS and ARGV, and refuses
-- writes and unknown names with Redis's messages. Library tables are read-only views.
local error, setmetatable, tostring, type, getinfo = error, setmetatable, tostring, type, debug.getinfo
local format, sub, mathtype = string.format, string.sub, math.type

-- Lua 5.1 (Redis's) has no integer subtype: floats print as %.14g, so 6/2 prints "3", not "3.0".
local function tostring51(value)
  if mathtype(value) == 'float' then
    return format('%.14g', value)
  end
  return tostring(value)
end

local function readonly(t)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end

-- The bit library Redis ships (LuaBitOp): 32-bit operations on numbers, results as signed 32-bit integers.
-- Non-integers round to nearest, ties to even, as LuaBitOp's conversion does.
local floor, tointeger = math.floor, math.tointeger
local function tobit(x)
  x = tonumber(x) or error('bad argument (number expected)', 2)
  local n = tointeger(x)
  if not n then
    local f = floor(x)
    local d = x - f
    if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
    n = tointeger(f % 4294967296) or 0
  end
  n = n & 0xffffffff
  if n >= 0x80000000 then n = n - 0x100000000 end
  return n
end
local function fold(op)
  return function(x, ...)
    local r = tobit(x)
    for i = 1, select('#', ...) do r = op(r, tobit((select(i, ...)))) end
    return tobit(r)
  end
end
local bit = {
  tobit = tobit,
  bnot = function(x) return tobit(~tobit(x)) end,
  band = fold(function(a, b) return a & b end),
  bor = fold(function(a, b) return a | b end),
  bxor = fold(function(a, b) return a ~ b end),
  lshift = function(x, n) return tobit(tobit(x) << (tobit(n) & 31)) end,
  rshift = function(x, n) return tobit((tobit(x) & 0xffffffff) >> (tobit(n) & 31)) end,
  arshift = function(x, n) return tobit(tobit(x) // (1 << (tobit(n) & 31))) end,
  rol = function(x, n) local v, k = tobit(x) & 0xffffffff, tobit(n) & 31 return tobit((v << k) | (v >> (32 - k))) end,
  ror = function(x, n) local v, k = tobit(x) & 0xffffffff, tobit(n) & 31 return tobit((v >> k) | (v << (32 - k))) end,
  bswap = function(x)
    local v = tobit(x) & 0xffffffff
    return tobit(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24))
  end,
  tohex = function(x, n)
    n = n == nil and 8 or tobit(n)
    local spec = n < 0 and 'X' or 'x'
    if n < 0 then n = -n end
    if n > 8 then n = 8 end
    return format('%0' .. n .. spec, tobit(x) & ((1 << (4 * n)) - 1))
  end,
}

-- The cjson library Redis ships, for the common cases: cjson's array/object rules, escapes and number format,
-- cjson.null (a light userdata). Objects list their keys in Lua's table order, which may differ from Redis's.
local concat, char, byte, pairs, select, tonumber = table.concat, string.char, string.byte, pairs, select, tonumber
local null = __tessera_null
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function escape(text)
  return '"' .. text:gsub('[%c"\\/]', function(c) return escapes[c] or format('\\u%04x', byte(c)) end) .. '"'
end

local encode_value
local function encode_table(t, depth, out)
  if depth > 1000 then error('Cannot serialise, excessive nesting (1001)', 0) end
  local max, items, is_array = 0, 0, true
  for k in pairs(t) do
    if mathtype(k) == 'integer' and k > 0 or (type(k) == 'number' and k > 0 and floor(k) == k) then
      if k > max then max = k end
      items = items + 1
    else
      is_array = false
      break
    end
  end
  if is_array and max > 0 then
    if max > items * 2 and max > 10 then error('Cannot serialise table: excessively sparse array', 0) end
    out[#out + 1] = '['
    for i = 1, max do
      if i > 1 then out[#out + 1] = ',' end
      local v = t[i]
      if v == nil then out[#out + 1] = 'null' else encode_value(v, depth + 1, out) end
    end
    out[#out + 1] = ']'
    return
  end
  out[#out + 1] = '{'
  local first = true
  for k, v in pairs(t) do
    local key = type(k) == 'string' and k or type(k) == 'number' and tostring51(k)
      or error('Cannot serialise table: table key must be a number or string', 0)
    if not first then out[#out + 1] = ',' end
    first = false
    out[#out + 1] = escape(key)
    out[#out + 1] = ':'
    encode_value(v, depth + 1, out)
  end
  out[#out + 1] = '}'
end

encode_value = function(v, depth, out)
  local kind = type(v)
  if kind == 'string' then out[#out + 1] = escape(v)
  elseif kind == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then
      error('Cannot serialise number: must not be NaN or Inf', 0)
    end
    out[#out + 1] = tostring51(v)
  elseif kind == 'boolean' then out[#out + 1] = tostring(v)
  elseif v == nil or v == null then out[#out + 1] = 'null'
  elseif kind == 'table' then encode_table(v, depth, out)
  else error('Cannot serialise ' .. kind .. ': type not supported', 0) end
end

local function decode(text)
  if type(text) ~= 'string' then error("bad argument #1 to 'decode' (string expected)", 2) end
  local pos = 1
  local tokens = { ['{'] = 'T_OBJ_BEGIN', ['}'] = 'T_OBJ_END', ['['] = 'T_ARR_BEGIN', [']'] = 'T_ARR_END',
    [','] = 'T_COMMA', [':'] = 'T_COLON', ['"'] = 'T_STRING' }
  local function fail(expected)
    local c = text:sub(pos, pos)
    local found = c == '' and 'T_END' or tokens[c] or (c:match('[-%d]') and 'T_NUMBER')
      or ((text:sub(pos, pos + 3) == 'true' or text:sub(pos, pos + 4) == 'false') and 'T_BOOLEAN')
      or (text:sub(pos, pos + 3) == 'null' and 'T_NULL') or 'invalid token'
    error('Expected ' .. expected .. ' but found ' .. found .. ' at character ' .. pos, 0)
  end
  local function skip() pos = text:find('[^ \t\r\n]', pos) or #text + 1 end
  local value
  local function parse_string()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == '' then fail('value') end
      if c == '"' then pos = i + 1 return concat(out) end
      if c == '\\' then
        local e = text:sub(i + 1, i + 1)
        local simple = ({ b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/' })[e]
        if simple then out[#out + 1] = simple i = i + 2
        elseif e == 'u' then
          local code = tonumber(text:sub(i + 2, i + 5), 16) or fail('value')
          i = i + 6
          if code >= 0xD800 and code <= 0xDBFF and text:sub(i, i + 1) == '\\u' then
            local low = tonumber(text:sub(i + 2, i + 5), 16)
            if low and low >= 0xDC00 and low <= 0xDFFF then
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
              i = i + 6
            end
          end
          out[#out + 1] = utf8.char(code)
        else fail('value') end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
  end
  -- The items of an object or array up to its closing character, separated by commas.
  local function elements(close, what, item)
    pos = pos + 1
    skip()
    if text:sub(pos, pos) == close then pos = pos + 1 return end
    while true do
      item()
      skip()
      local d = text:sub(pos, pos)
      if d == close then pos = pos + 1 return end
      if d ~= ',' then fail('comma or ' .. what .. ' end') end
      pos = pos + 1
    end
  end
  value = function()
    skip()
    local c = text:sub(pos, pos)
    if c == '{' then
      local t = {}
      elements('}', 'object', function()
        skip()
        if text:sub(pos, pos) ~= '"' then fail('object key string') end
        local key = parse_string()
        skip()
        if text:sub(pos, pos) ~= ':' then fail('colon') end
        pos = pos + 1
        t[key] = value()
      end)
      return t
    elseif c == '[' then
      local t, n = {}, 0
      elements(']', 'array', function()
        n = n + 1
        t[n] = value()
      end)
      return t
    elseif c == '"' then return parse_string()
    elseif text:sub(pos, pos + 3) == 'true' then pos = pos + 4 return true
    elseif text:sub(pos, pos + 4) == 'false' then pos = pos + 5 return false
    elseif text:sub(pos, pos + 3) == 'null' then pos = pos + 4 return null
    else
      local number = text:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
      local n = number and number ~= '' and tonumber(number)
      if not n then fail('value') end
      pos = pos + #number
      return n
    end
  end
  local result = value()
  skip()
  if pos <= #text then fail('the end') end
  return result
end

-- Errors are raised again at the script's line, where Redis's C library reports them. Called in tail position
-- ("return cjson.encode(t)") the script's frame is gone; a one-line script can only be on line 1.
local function at_caller(f)
  return function(...)
    local ok, result = pcall(f, ...)
    if ok then return result end
    local info = getinfo(2, 'Sl')
    if info and info.source == '@user_script' then error(result, 2) end
    error('user_script:' .. (__tessera_single_line and '1' or '?') .. ': ' .. result, 0)
  end
end

local cjson = {
  encode = at_caller(function(v)
    local out = {}
    encode_value(v, 1, out)
    return concat(out)
  end),
  decode = at_caller(decode),
  null = null,
}

local sandbox = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  rawequal = rawequal, rawget = rawget, rawset = rawset, rawlen = rawlen, select = select, tonumber = tonumber,
  tostring = tostring51, type = type, xpcall = xpcall, getmetatable = getmetatable, setmetatable = setmetatable,
  unpack = table.unpack, collectgarbage = collectgarbage, _VERSION = 'Lua 5.1',
  string = readonly(string), math = readonly(math), table = readonly(table), bit = readonly(bit),
  cjson = readonly(cjson),
}

-- redis.call and redis.pcall run the command in C#; an error comes back as a table, raised here so that no
-- Lua error ever unwinds through managed code.
local call, sha1hex, log, killed = __tessera_call, __tessera_sha1hex, __tessera_log, __tessera_killed
local setresp = __tessera_setresp

-- Every 100,000 instructions the engine notes a script running past busy-reply-threshold (and serves other
-- clients while it is), and a SCRIPT KILL or a library load past its time ends the script with an error raised
-- here, in Lua.
debug.sethook(function()
  local reason = killed()
  if reason then error({ err = reason }, 0) end
end, '', 100000)
local redis = {
  call = function(...)
    local reply, failed = call(...)
    if failed then error(reply, 0) end
    return reply
  end,
  pcall = function(...)
    return (call(...))
  end,
  error_reply = function(message)
    if type(message) == 'string' and sub(message, 1, 1) == '-' then message = sub(message, 2) end
    return { err = message }
  end,
  status_reply = function(message) return { ok = message } end,
  sha1hex = function(text) return sha1hex(text) end,
  setresp = function(version)
    if not setresp(version) then error({ err = 'ERR RESP version must be 2 or 3.' }, 0) end
  end,
  -- Redis's checks: two arguments or more, a numeric level from LOG_DEBUG to LOG_WARNING.
  log = function(...)
    if select('#', ...) < 2 then error({ err = 'ERR redis.log() requires two arguments or more.' }, 0) end
    local level = tonumber((...))
    if not level then error({ err = 'ERR First argument must be a number (log level).' }, 0) end
    level = level < 0 and -floor(-level) or floor(level)
    if level < 0 or level > 3 then error({ err = 'ERR Invalid debug level.' }, 0) end
    log(level, select(2, ...))
  end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
sandbox.redis = readonly(redis)

local per_call = {}
__tessera_per_call = per_call

__tessera_env = setmetatable({}, {
  __index = function(_, name)
    local value = per_call[name]
    if value ~= nil then return value end
    value = sandbox[name]
    if value ~= nil then return value end
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})

-- Redis 7 functions. A library's code runs once at FUNCTION LOAD with an environment whose redis table only
-- registers functions; the functions it registers see the full sandbox when FCALL runs them.
local loading = false
local registered = {}
local function register_function(name, callback, ...)
  local flags = {}
  if type(name) == 'table' then
    name, callback, flags = name.function_name, name.callback, name.flags or {}
  end
  if type(name) ~= 'string' then error('function name must be a string', 2) end
  if type(callback) ~= 'function' then error('callback must be a function', 2) end
  if registered[name] then error({ err = 'ERR Function ' .. name .. ' already exists' }, 0) end
  registered[name] = { callback = callback, flags = flags }
end
local load_redis = readonly(setmetatable({ register_function = register_function, log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3 }, {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
}))

__tessera_function_env = setmetatable({}, {
  __index = function(_, name)
    if name == 'redis' and loading then return load_redis end
    local value = sandbox[name]
    if value ~= nil then return value end
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})

-- Runs a library's code; returns the functions it registered (name -> {callback, flags}).
__tessera_load_library = function(chunk)
  registered, loading = {}, true
  local ok, err = xpcall(chunk, __tessera_error_handler)
  loading = false
  if not ok then error(err, 0) end
  return registered
end

-- The message handler of every script call: strings become ERR errors, and the error remembers the script
-- line it was raised on, for Redis's "script: <sha>, on @user_script:<line>." suffix.
__tessera_error_handler = function(err)
  if type(err) ~= 'table' then
    err = { err = 'ERR ' .. tostring(err) }
  end
  for level = 2, 32 do
    local info = getinfo(level, 'Sl')
    if not info then break end
    if info.source == '@user_script' or info.source == '@user_function' then
      err.line = info.currentline
      break
    end
  end
  return err
end
