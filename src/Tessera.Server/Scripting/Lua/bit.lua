-- The bit library Redis ships (LuaBitOp): 32-bit operations on numbers, results as signed 32-bit integers.
-- Non-integers round to nearest, ties to even, as LuaBitOp's conversion does.
local lib = ...
local as51 = lib.lua51.as51
local error, select, tonumber, type = error, select, tonumber, type
local format, floor, tointeger = string.format, math.floor, math.tointeger

local function tobit(x, position)
  local n = tonumber(x)
  if n == nil then
    error('bad argument #' .. position .. " to 'bit' (number expected, got " .. (x == nil and 'no value' or type(x)) .. ')', 0)
  end
  local i = tointeger(n)
  if not i then
    local f = floor(n)
    local d = n - f
    if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
    i = tointeger(f % 4294967296) or 0
  end
  i = i & 0xffffffff
  if i >= 0x80000000 then i = i - 0x100000000 end
  return i
end

local function fold(name, op)
  return as51(name, function(x, ...)
    local r = tobit(x, 1)
    for i = 1, select('#', ...) do r = op(r, tobit((select(i, ...)), i + 1)) end
    return tobit(r, 1)
  end)
end
local function shift(name, op)
  return as51(name, function(x, n) return tobit(op(tobit(x, 1), tobit(n, 2) & 31), 1) end)
end

return {
  tobit = as51('tobit', function(x) return tobit(x, 1) end),
  bnot = as51('bnot', function(x) return tobit(~tobit(x, 1), 1) end),
  band = fold('band', function(a, b) return a & b end),
  bor = fold('bor', function(a, b) return a | b end),
  bxor = fold('bxor', function(a, b) return a ~ b end),
  lshift = shift('lshift', function(v, k) return v << k end),
  rshift = shift('rshift', function(v, k) return (v & 0xffffffff) >> k end),
  arshift = shift('arshift', function(v, k) return v // (1 << k) end),
  rol = shift('rol', function(v, k) v = v & 0xffffffff return (v << k) | (v >> (32 - k)) end),
  ror = shift('ror', function(v, k) v = v & 0xffffffff return (v >> k) | (v << (32 - k)) end),
  bswap = as51('bswap', function(x)
    local v = tobit(x, 1) & 0xffffffff
    return tobit(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24), 1)
  end),
  tohex = as51('tohex', function(x, n)
    n = n == nil and 8 or tobit(n, 2)
    local spec = n < 0 and 'X' or 'x'
    if n < 0 then n = -n end
    if n > 8 then n = 8 end
    return format('%0' .. n .. spec, tobit(x, 1) & ((1 << (4 * n)) - 1))
  end),
}
