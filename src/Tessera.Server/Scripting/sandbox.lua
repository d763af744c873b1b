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

local sandbox = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  rawequal = rawequal, rawget = rawget, rawset = rawset, rawlen = rawlen, select = select, tonumber = tonumber,
  tostring = tostring51, type = type, xpcall = xpcall, getmetatable = getmetatable, setmetatable = setmetatable,
  unpack = table.unpack, collectgarbage = collectgarbage, _VERSION = 'Lua 5.1',
  string = readonly(string), math = readonly(math), table = readonly(table), bit = readonly(bit),
}

-- redis.call and redis.pcall run the command in C#; an error comes back as a table, raised here so that no
-- Lua error ever unwinds through managed code.
local call, sha1hex, log, killed = __tessera_call, __tessera_sha1hex, __tessera_log, __tessera_killed

-- Every 100,000 instructions the engine notes a script running past busy-reply-threshold, and a SCRIPT KILL
-- ends the script with an error raised here, in Lua.
debug.sethook(function()
  if killed() then error({ err = 'ERR Script killed by user with SCRIPT KILL...' }, 0) end
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
  log = function(level, ...) log(level, ...) end,
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

-- The message handler of every script call: strings become ERR errors, and the error remembers the script
-- line it was raised on, for Redis's "script: <sha>, on @user_script:<line>." suffix.
__tessera_error_handler = function(err)
  if type(err) ~= 'table' then
    err = { err = 'ERR ' .. tostring(err) }
  end
  for level = 2, 32 do
    local info = getinfo(level, 'Sl')
    if not info then break end
    if info.source == '@user_script' then
      err.line = info.currentline
      break
    end
  end
  return err
end
