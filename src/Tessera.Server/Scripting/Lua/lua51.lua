-- Lua 5.1's standard library as Redis's scripts know it, built on the Lua 5.4 Tessera embeds. Scripts written for
-- Redis call 5.1 functions with 5.1 expectations: floats where 5.4 wants integers (string.sub(s, 1, #s / 2)),
-- numbers printed as %.14g, functions 5.4 removed (getfenv, math.pow, table.getn, ...). 5.4-only functions
-- (string.pack, math.tointeger, table.move, ...) are left out, as Redis does not have them.
-- Returns the module: the 5.1 globals (without the environment-bound ones), the library tables, and helpers
-- the other libraries share.
local type, tostring, tonumber, select, error, pcall, rawequal, rawget, rawset = type, tostring, tonumber, select, error,
  pcall, rawequal, rawget, rawset
local pairs, ipairs, next, setmetatable, load = pairs, ipairs, next, setmetatable, load
local string, table, math, coroutine, debug = string, table, math, coroutine, debug
local format, find, sub, gsub = string.format, string.find, string.sub, string.gsub
local floor, huge, mathtype, maxinteger, mininteger = math.floor, math.huge, math.type, math.maxinteger, math.mininteger
local pack, unpack = table.pack, table.unpack
local getinfo, gethook, sethook, getmetatable_raw = debug.getinfo, debug.gethook, debug.sethook, debug.getmetatable

local m = {}

-- Floats print as %.14g: 6/2 is "3", not 5.4's "3.0".
local function tostring51(value)
  if mathtype(value) == 'float' then
    return format('%.14g', value)
  end
  return tostring(value)
end
m.tostring51 = tostring51

-- 5.1's luaL_checkinteger truncates a float toward zero; 5.4 refuses one without an integer value. Values that
-- are not numbers pass unchanged, for the function to refuse with its own message.
local function toint(value)
  local n = tonumber(value)
  if n == nil then return value end
  if mathtype(n) == 'integer' then return n end
  if n ~= n then return 0 end
  if n >= 2 ^ 63 then return maxinteger end
  if n < -2 ^ 63 then return mininteger end
  return n >= 0 and floor(n) or -floor(-n)
end
m.toint = toint

-- 5.1's luaL_checkint: the same, then cut to a C int (2^31 becomes -2^31).
local function toint32(value)
  local n = toint(value)
  if mathtype(n) ~= 'integer' then return n end
  n = n & 0xFFFFFFFF
  return n >= 0x80000000 and n - 0x100000000 or n
end

-- A number as 5.1 holds it, a double: a 64-bit integer read from binary data becomes the nearest double. Whole
-- values up to 2^53 stay integers here, so that they also print and concatenate as 5.1's do ("5", not "5.0").
local function number51(value, unsigned)
  if mathtype(value) == 'integer' then
    if value >= -2 ^ 53 and value <= 2 ^ 53 then return value end
    if unsigned and value < 0 then
      -- Halve with the dropped bit kept as a sticky bit, so the conversion rounds once, as C's does.
      return ((value >> 1) | (value & 1)) * 2.0
    end
    return value + 0.0
  end
  if value == floor(value) and value >= -2 ^ 53 and value <= 2 ^ 53 and not (value == 0 and 1 / value < 0) then
    return floor(value)
  end
  return value
end
m.number51 = number51

-- Errors are raised at the script's line, as 5.1 reports an error of a C function. A call in tail position
-- ("return string.rep(x)") leaves no frame of the script: then the engine's guess (__tessera_tail_place) says.
local function user_frame(info)
  return info and (info.source == '@user_script' or info.source == '@user_function'
    or sub(info.source, 1, 9) ~= '=tessera:' and info.what ~= 'C')
end
-- An error that 5.1 raises without a place (Lua's own runtime errors inside C code): m.unplaced(text).
local Unplaced = {}
function m.unplaced(text) return setmetatable({ text }, Unplaced) end

-- level counts as error's does, from raise's caller's point of view plus one (raise itself is level 1).
local function raise(message, level)
  if type(message) == 'table' and rawequal(getmetatable_raw(message), Unplaced) then
    error(message[1], 0)
  end
  if type(message) ~= 'string' or find(message, '^[^:\n]*:%d+: ') then
    error(message, 0)
  end
  local frame = getinfo(level, 'S')
  if frame and frame.what == 'C' and getinfo(level + 1, 'S') then
    -- Called by a C function (pcall(cjson.encode, t)): 5.1 places such an error nowhere.
    error(message, 0)
  end
  if user_frame(frame) then
    error(message, level)
  end
  error(__tessera_tail_place .. ': ' .. message, 0)
end
m.raise = raise

-- f as 5.1's <name>: the arguments from first to last truncated to integers, errors named and placed as 5.1's.
local function settle(name, ok, ...)
  if ok then return ... end
  local message = ...
  if type(message) == 'string' then
    -- An error of a 5.4 function called from one of these files is placed there; 5.1 has no such place.
    message = gsub(gsub(message, '^tessera:%w+:%d+: ', ''), "^bad argument #(%d+) to '[^']*'",
      "bad argument #%1 to '" .. name .. "'")
  end
  raise(message, 3)
end
-- as51(name, f, first, last, int): the arguments first..last are read as luaL_checkinteger does, or as
-- luaL_checkint when int is true.
local function as51(name, f, first, last, int)
  first, last = first or 1, last or 0
  local convert = int and toint32 or toint
  return function(...)
    local n = select('#', ...)
    if n >= first and first <= last then
      local args = pack(...)
      for i = first, last < n and last or n do
        args[i] = convert(args[i])
      end
      return settle(name, pcall(f, unpack(args, 1, n)))
    end
    return settle(name, pcall(f, ...))
  end
end
m.as51 = as51

-- string.format: 5.1's conversions (%d of a float truncates, %s of a number is %.14g, %q escapes as 5.1 does,
-- no %a), its limits on flags, width and precision, and its messages.
local function quote51(text)
  return '"' .. gsub(text, '[\\"\n\r%z]', { ['\\'] = '\\\\', ['"'] = '\\"', ['\n'] = '\\\n', ['\r'] = '\\r',
    ['\0'] = '\\000' }) .. '"'
end
local function format51(fmt, ...)
  if type(fmt) ~= 'string' and type(fmt) ~= 'number' then
    error("bad argument #1 to 'format' (string expected, got " .. (fmt == nil and 'no value' or type(fmt)) .. ')', 0)
  end
  fmt = tostring51(fmt)
  local out, n, arg, pos = {}, select('#', ...), 1, 1
  while true do
    local percent = find(fmt, '%', pos, true)
    if not percent then
      out[#out + 1] = sub(fmt, pos)
      break
    end
    out[#out + 1] = sub(fmt, pos, percent - 1)
    if sub(fmt, percent + 1, percent + 1) == '%' then
      out[#out + 1] = '%'
      pos = percent + 2
    else
      arg = arg + 1
      if arg > n + 1 then error("bad argument #" .. arg .. " to 'format' (no value)", 0) end
      local flags, width, precision, conversion, after = fmt:match('^([-+ #0]*)(%d*)(%.?%d*)(.?)()', percent + 1)
      if #flags >= 6 then error('invalid format (repeated flags)', 0) end
      if #width > 2 or #precision > 3 then error('invalid format (width or precision too long)', 0) end
      local spec = '%' .. flags .. width .. precision
      local value = select(arg - 1, ...)
      local function number()
        local v = tonumber(value)
        if v == nil then
          error("bad argument #" .. arg .. " to 'format' (number expected, got " .. type(value) .. ')', 0)
        end
        return v
      end
      if conversion == 'c' or conversion == 'd' or conversion == 'i' or conversion == 'o' or conversion == 'x'
        or conversion == 'X' then
        out[#out + 1] = format(spec .. conversion, toint(number()))
      elseif conversion == 'u' then
        out[#out + 1] = format(spec .. 'd', toint(number()))
      elseif conversion == 'e' or conversion == 'E' or conversion == 'f' or conversion == 'g' or conversion == 'G' then
        out[#out + 1] = format(spec .. conversion, number() + 0.0)
      elseif conversion == 'q' or conversion == 's' then
        if type(value) == 'number' then value = tostring51(value) end
        if type(value) ~= 'string' then
          error("bad argument #" .. arg .. " to 'format' (string expected, got " .. type(value) .. ')', 0)
        end
        if conversion == 'q' then
          out[#out + 1] = quote51(value)
        elseif precision == '' and #value >= 100 then
          out[#out + 1] = value
        else
          out[#out + 1] = format(spec .. 's', (gsub(value, '%z.*', '')))
        end
      else
        error("invalid option '%" .. conversion .. "' to 'format'", 0)
      end
      pos = after
    end
  end
  return table.concat(out)
end

m.string = {
  byte = as51('byte', string.byte, 2, 3),
  char = as51('char', function(...)
    local codes = pack(...)
    for i = 1, codes.n do
      local c = tonumber(codes[i])
      if c == nil then
        error('bad argument #' .. i .. " to 'char' (number expected, got " .. type(codes[i]) .. ')', 0)
      end
      c = toint32(c)
      if c < 0 or c > 255 then error('bad argument #' .. i .. " to 'char' (invalid value)", 0) end
      codes[i] = c
    end
    return string.char(unpack(codes, 1, codes.n))
  end),
  dump = as51('dump', function(f) return string.dump(f) end),
  find = as51('find', string.find, 3, 3),
  format = as51('format', format51),
  gfind = as51('gfind', string.gmatch),
  gmatch = as51('gmatch', string.gmatch),
  gsub = as51('gsub', string.gsub, 4, 4, true),
  len = string.len,
  lower = string.lower,
  match = as51('match', string.match, 3, 3),
  -- 5.1 has no separator argument.
  rep = as51('rep', function(...)
    if select('#', ...) > 2 then return string.rep((...), (select(2, ...))) end
    return string.rep(...)
  end, 2, 2, true),
  reverse = string.reverse,
  sub = as51('sub', string.sub, 2, 3),
  upper = string.upper,
}

-- redisLrand48 (Redis's rand.c): the 48-bit linear congruential generator of POSIX lrand48, seeded once when
-- the engine starts and by math.randomseed only, so a script gets the numbers Redis would give it.
local lrand_x = 0x1234ABCD330E
local function lrand48()
  lrand_x = (0x5DEECE66D * lrand_x + 0xB) & 0xFFFFFFFFFFFF
  return lrand_x >> 17
end
local function checkint(value, position, name)
  local n = tonumber(value)
  if n == nil then
    error("bad argument #" .. position .. " to '" .. name .. "' (number expected, got "
      .. (value == nil and 'no value' or type(value)) .. ')', 0)
  end
  n = toint(n)
  n = n & 0xFFFFFFFF
  return n >= 0x80000000 and n - 0x100000000 or n
end
local function random(...)
  local r = (lrand48() % 0x7FFFFFFF) / 0x7FFFFFFF
  local count = select('#', ...)
  if count == 0 then
    return r
  elseif count == 1 then
    local u = checkint((...), 1, 'random')
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 0) end
    return floor(r * u) + 1
  elseif count == 2 then
    local l, u = checkint((...), 1, 'random'), checkint(select(2, ...), 2, 'random')
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 0) end
    return floor(r * (u - l + 1)) + l
  end
  error('wrong number of arguments', 0)
end
local function randomseed(seed)
  lrand_x = ((checkint(seed, 1, 'randomseed') & 0xFFFFFFFF) << 16) | 0x330E
end

-- frexp and ldexp as C's: x = m * 2^e with 0.5 <= |m| < 1.
local function ldexp(x, e)
  x, e = tonumber(x), toint(tonumber(e))
  while e > 1000 do x, e = x * 2.0 ^ 1000, e - 1000 end
  while e < -1000 do x, e = x * 2.0 ^ -1000, e + 1000 end
  return x * 2.0 ^ e
end
local function frexp(x)
  x = tonumber(x) + 0.0
  if x == 0 or x ~= x or x == huge or x == -huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local mantissa = ldexp(x, -e)
  if math.abs(mantissa) >= 1 then mantissa, e = mantissa / 2, e + 1 end
  if math.abs(mantissa) < 0.5 then mantissa, e = mantissa * 2, e - 1 end
  return mantissa, e
end
local exp = math.exp
m.math = {
  abs = math.abs, acos = math.acos, asin = math.asin, atan = function(x) return math.atan(x) end,
  atan2 = function(y, x) return math.atan(y, x) end, ceil = math.ceil, cos = math.cos,
  cosh = function(x) return (exp(x) + exp(-x)) / 2 end, deg = math.deg, exp = exp, floor = math.floor,
  fmod = math.fmod, frexp = frexp, huge = huge, ldexp = ldexp, log = function(x) return math.log(x) end,
  log10 = function(x) return math.log(x, 10) end, max = math.max, min = math.min, mod = math.fmod,
  modf = math.modf, pi = math.pi, pow = function(x, y) return tonumber(x) ^ tonumber(y) end, rad = math.rad,
  random = as51('random', random), randomseed = as51('randomseed', randomseed), sin = math.sin,
  sinh = function(x) return (exp(x) - exp(-x)) / 2 end, sqrt = math.sqrt, tan = math.tan,
  tanh = function(x)
    if x > 20 then return 1.0 elseif x < -20 then return -1.0 end
    local a, b = exp(x), exp(-x)
    return (a - b) / (a + b)
  end,
}

local function maxn(t)
  local max = 0
  for k in next, t do
    if type(k) == 'number' and k > max then max = k end
  end
  return max
end
-- 5.4's concat writes a float as 3.0, 5.1's as 3.
local function concat51(t, sep, i, j)
  if type(t) ~= 'table' then error("bad argument #1 to 'concat' (table expected, got " .. type(t) .. ')', 0) end
  i = i == nil and 1 or i
  j = j == nil and #t or j
  local parts
  for k = i, j do
    local v = t[k]
    if mathtype(v) == 'float' then
      parts = parts or table.move(t, i, j, 1, {})
      parts[k - i + 1] = tostring51(v)
    end
  end
  if parts then return table.concat(parts, sep, 1, j - i + 1) end
  return table.concat(t, sep, i, j)
end
m.table = {
  concat = as51('concat', concat51, 3, 4, true),
  foreach = as51('foreach', function(t, f)
    for k, v in next, t do
      local r = f(k, v)
      if r ~= nil then return r end
    end
  end),
  foreachi = as51('foreachi', function(t, f)
    for i = 1, #t do
      local r = f(i, t[i])
      if r ~= nil then return r end
    end
  end),
  getn = as51('getn', function(t)
    if type(t) ~= 'table' then error("bad argument #1 to 'getn' (table expected, got " .. type(t) .. ')', 0) end
    return #t
  end),
  insert = as51('insert', function(t, ...)
    if select('#', ...) == 2 then return table.insert(t, toint32((...)), (select(2, ...))) end
    return table.insert(t, ...)
  end),
  maxn = as51('maxn', function(t)
    if type(t) ~= 'table' then error("bad argument #1 to 'maxn' (table expected, got " .. type(t) .. ')', 0) end
    return maxn(t)
  end),
  -- 5.1 removes nothing outside 1..#t.
  remove = as51('remove', function(t, pos)
    if type(t) ~= 'table' then error("bad argument #1 to 'remove' (table expected, got " .. type(t) .. ')', 0) end
    local n = #t
    pos = pos == nil and n or pos
    if pos < 1 or pos > n then return end
    return table.remove(t, pos)
  end, 2, 2, true),
  setn = function() error("'setn' is obsolete", 2) end,
  sort = as51('sort', table.sort),
}

-- Coroutines run under the hook of the thread that creates them (Lua 5.1 copies it into a new thread; 5.4's
-- debug.sethook keeps one per thread), so SCRIPT KILL reaches a script spinning inside one.
local function create(f)
  local co = coroutine.create(f)
  local hook, mask, count = gethook()
  if hook then sethook(co, hook, mask, count) end
  return co
end
local function resumed(ok, ...)
  if ok then return ... end
  raise((...), 3)
end
m.coroutine = {
  create = as51('create', create),
  resume = coroutine.resume,
  running = function()
    local co, main = coroutine.running()
    if main then return nil end
    return co
  end,
  status = coroutine.status,
  wrap = as51('wrap', function(f)
    local co = create(f)
    return function(...) return resumed(coroutine.resume(co, ...)) end
  end),
  yield = coroutine.yield,
}

-- Tables a script may not change, not even with rawset or setmetatable (Redis's read-only tables).
local readonly_tables = setmetatable({}, { __mode = 'k' })
m.readonly_tables = readonly_tables

local setmetatable51
function setmetatable51(t, mt)
  -- 5.1 never finalizes a table; 5.4 would run a __gc whenever the collector got to it, inside whatever
  -- script or command was running then. The table is set while __gc is away, so it is never marked.
  if type(mt) == 'table' then
    local gc = rawget(mt, '__gc')
    if gc ~= nil then
      rawset(mt, '__gc', nil)
      local ok, result = pcall(setmetatable, t, mt)
      rawset(mt, '__gc', gc)
      if not ok then error(result, 0) end
      return result
    end
  end
  return setmetatable(t, mt)
end

local function collectgarbage51(option, arg)
  option = option == nil and 'collect' or option
  if option == 'count' then
    return collectgarbage('count')
  elseif option == 'collect' or option == 'stop' or option == 'restart' then
    collectgarbage(option)
    return 0
  elseif option == 'step' then
    return collectgarbage('step', toint(arg or 0))
  elseif option == 'setpause' or option == 'setstepmul' then
    return 100
  end
  error("bad argument #1 to 'collectgarbage' (invalid option '" .. tostring51(option) .. "')", 0)
end

local rawset51 = as51('rawset', rawset)
setmetatable51 = as51('setmetatable', setmetatable51)

-- The 5.1 base functions that do not depend on the calling environment.
m.base = {
  assert = assert, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  rawequal = rawequal, rawget = rawget, select = as51('select', select, 1, 1, true), tonumber = tonumber,
  tostring = tostring51, type = type, getmetatable = getmetatable, unpack = as51('unpack', unpack, 2, 3, true),
  _VERSION = 'Lua 5.1',
  xpcall = function(f, handler) return xpcall(f, handler) end,
  -- A read-only table refuses without a position, as Redis's C check does.
  rawset = function(t, ...)
    if readonly_tables[t] then error('Attempt to modify a readonly table', 0) end
    return rawset51(t, ...)
  end,
  setmetatable = function(t, ...)
    if readonly_tables[t] then error('Attempt to modify a readonly table', 0) end
    return setmetatable51(t, ...)
  end,
  -- 5.1 places a number as it does a string (5.4 only a string).
  error = function(message, level)
    level = level == nil and 1 or toint(level)
    if type(message) == 'number' then message = tostring51(message) end
    error(message, level > 0 and level + 1 or level)
  end,
  collectgarbage = as51('collectgarbage', collectgarbage51),
  gcinfo = function() return floor(collectgarbage('count')) end,
}


-- The functions whose 5.1 meaning involves "the global environment": bound to the environment a script runs in.
-- (Redis's scripts have no getfenv, setfenv or newproxy.)
function m.environment_functions(env)
  local function chunk(text, name)
    return load(text, name, 't', env)
  end
  return {
    loadstring = as51('loadstring', function(text, name)
      if type(text) == 'number' then text = tostring51(text) end
      if type(text) ~= 'string' then
        error("bad argument #1 to 'loadstring' (string expected, got " .. (text == nil and 'no value' or type(text)) .. ')', 0)
      end
      return chunk(text, name == nil and text or tostring51(name))
    end),
    load = as51('load', function(reader, name)
      if type(reader) ~= 'function' then
        error("bad argument #1 to 'load' (function expected, got " .. (reader == nil and 'no value' or type(reader)) .. ')', 0)
      end
      local parts = {}
      while true do
        local part = reader()
        if part == nil or part == '' then break end
        if type(part) ~= 'string' then return nil, 'reader function must return a string' end
        parts[#parts + 1] = part
      end
      return chunk(table.concat(parts), name == nil and '=(load)' or tostring51(name))
    end),
  }
end

return m
