-- The cmsgpack library Redis ships (lua-cmsgpack 0.4.0 built for Lua 5.1): MessagePack encoding of Lua values.
-- Whole numbers that fit 64 bits are integers, others floats (4 bytes when exact) or doubles; a table whose
-- keys are exactly 1..n is an array, any other a map; tables nested 16 deep, functions and nil encode as nil.
-- unpack decodes a stream of values; unpack_one and unpack_limit decode some and return the next offset first.
local lib = ...
local lua51 = lib.lua51
local as51, number51, tostring51 = lua51.as51, lua51.number51, lua51.tostring51
local error, next, pcall, rawlen, select, tonumber, type = error, next, pcall, rawlen, select, tonumber, type
local byte, char, format, sub, spack, sunpack = string.byte, string.char, string.format, string.sub, string.pack,
  string.unpack
local concat, unpack = table.concat, table.unpack
local floor, mathtype = math.floor, math.type

local MAX_NESTING = 16

local function bytes_of(n, count)
  local out = {}
  for k = count, 1, -1 do
    out[k] = char(n & 0xff)
    n = n >> 8
  end
  return concat(out)
end

local function encode_integer(n, out)
  if n >= 0 then
    if n <= 127 then out[#out + 1] = char(n)
    elseif n <= 0xff then out[#out + 1] = '\xcc' .. char(n)
    elseif n <= 0xffff then out[#out + 1] = '\xcd' .. bytes_of(n, 2)
    elseif n <= 0xffffffff then out[#out + 1] = '\xce' .. bytes_of(n, 4)
    else out[#out + 1] = '\xcf' .. bytes_of(n, 8) end
  else
    if n >= -32 then out[#out + 1] = char(n & 0xff)
    elseif n >= -128 then out[#out + 1] = '\xd0' .. char(n & 0xff)
    elseif n >= -32768 then out[#out + 1] = '\xd1' .. bytes_of(n, 2)
    elseif n >= -2147483648 then out[#out + 1] = '\xd2' .. bytes_of(n, 4)
    else out[#out + 1] = '\xd3' .. bytes_of(n, 8) end
  end
end

local function encode_number(n, out)
  if mathtype(n) == 'integer' then return encode_integer(n, out) end
  -- A double equal to an int64 (C's (int64_t)x == x) goes as that integer.
  if n == floor(n) and n >= -2 ^ 63 and n < 2 ^ 63 then return encode_integer(floor(n), out) end
  local single = spack('>f', n)
  if sunpack('>f', single) == n then
    out[#out + 1] = '\xca' .. single
  else
    out[#out + 1] = '\xcb' .. spack('>d', n)
  end
end

local function encode_string(s, out)
  local len = #s
  if len < 32 then out[#out + 1] = char(0xa0 | len)
  elseif len <= 0xff then out[#out + 1] = '\xd9' .. char(len)
  elseif len <= 0xffff then out[#out + 1] = '\xda' .. bytes_of(len, 2)
  else out[#out + 1] = '\xdb' .. bytes_of(len, 4) end
  out[#out + 1] = s
end

local function container_header(n, fix, short, long, out)
  if n <= 15 then out[#out + 1] = char(fix | n)
  elseif n <= 65535 then out[#out + 1] = short .. bytes_of(n, 2)
  else out[#out + 1] = long .. bytes_of(n, 4) end
end

-- 5.1's test: every key a positive whole number that fits an int, and as many keys as the largest one.
local function is_array(t)
  local count, max = 0, 0
  for k in next, t do
    if type(k) ~= 'number' or k <= 0 or k ~= floor(k) or k > 2147483647 then return false end
    if k > max then max = k end
    count = count + 1
  end
  return max == count
end

local encode
local function encode_table(t, level, out)
  if is_array(t) then
    local n = rawlen(t)
    container_header(n, 0x90, '\xdc', '\xdd', out)
    for j = 1, n do encode(t[j], level + 1, out) end
  else
    local n = 0
    for _ in next, t do n = n + 1 end
    container_header(n, 0x80, '\xde', '\xdf', out)
    for k, v in next, t do
      encode(k, level + 1, out)
      encode(v, level + 1, out)
    end
  end
end

encode = function(value, level, out)
  local kind = type(value)
  if kind == 'table' and level == MAX_NESTING then kind = 'nil' end
  if kind == 'string' then encode_string(value, out)
  elseif kind == 'boolean' then out[#out + 1] = value and '\xc3' or '\xc2'
  elseif kind == 'number' then encode_number(value, out)
  elseif kind == 'table' then encode_table(value, level, out)
  else out[#out + 1] = '\xc0' end
end

local function pack(...)
  local count = select('#', ...)
  if count == 0 then error("bad argument #0 to 'pack' (MessagePack pack needs input.)", 0) end
  local out = {}
  for i = 1, count do encode((select(i, ...)), 0, out) end
  return concat(out)
end

-- Decoding. A cursor is the data and the 1-based position of the next byte; a value that runs past the end
-- raises "Missing bytes", an unknown type byte "Bad data format".
local EOF, BADFMT = {}, {}
local function need(data, pos, count)
  if #data - pos + 1 < count then error(EOF, 0) end
end
local function uint(data, pos, count)
  local n = 0
  for k = 0, count - 1 do n = (n << 8) | byte(data, pos + k) end
  return n
end
local function sint(data, pos, count)
  local n = uint(data, pos, count)
  local bits = count * 8
  if bits < 64 and n >= 1 << (bits - 1) then n = n - (1 << bits) end
  return n
end

local decode
local function decode_array(data, pos, len)
  local t = {}
  for index = 1, len do
    local v
    v, pos = decode(data, pos)
    t[index] = v
  end
  return t, pos
end
local function decode_map(data, pos, len)
  local t = {}
  for _ = 1, len do
    local k, v
    k, pos = decode(data, pos)
    v, pos = decode(data, pos)
    if k == nil then error(lua51.unplaced('table index is nil'), 0) end
    if k ~= k then error(lua51.unplaced('table index is NaN'), 0) end
    t[k] = v
  end
  return t, pos
end

-- The value at pos and the position after it.
decode = function(data, pos)
  need(data, pos, 1)
  local b = byte(data, pos)
  if b == 0xcc then need(data, pos, 2) return uint(data, pos + 1, 1), pos + 2
  elseif b == 0xd0 then need(data, pos, 2) return sint(data, pos + 1, 1), pos + 2
  elseif b == 0xcd then need(data, pos, 3) return uint(data, pos + 1, 2), pos + 3
  elseif b == 0xd1 then need(data, pos, 3) return sint(data, pos + 1, 2), pos + 3
  elseif b == 0xce then need(data, pos, 5) return uint(data, pos + 1, 4), pos + 5
  elseif b == 0xd2 then need(data, pos, 5) return sint(data, pos + 1, 4), pos + 5
  -- 5.1 pushes an unsigned 64-bit value through a signed cast: above 2^63 it is negative.
  elseif b == 0xcf or b == 0xd3 then need(data, pos, 9) return number51(uint(data, pos + 1, 8)), pos + 9
  elseif b == 0xc0 then return nil, pos + 1
  elseif b == 0xc3 then return true, pos + 1
  elseif b == 0xc2 then return false, pos + 1
  elseif b == 0xca then need(data, pos, 5) return number51((sunpack('>f', data, pos + 1))), pos + 5
  elseif b == 0xcb then need(data, pos, 9) return number51((sunpack('>d', data, pos + 1))), pos + 9
  elseif b == 0xd9 or b == 0xda or b == 0xdb then
    local width = b == 0xd9 and 1 or b == 0xda and 2 or 4
    need(data, pos, 1 + width)
    local len = uint(data, pos + 1, width)
    pos = pos + 1 + width
    need(data, pos, len)
    return sub(data, pos, pos + len - 1), pos + len
  elseif b == 0xdc or b == 0xdd or b == 0xde or b == 0xdf then
    local width = (b == 0xdc or b == 0xde) and 2 or 4
    need(data, pos, 1 + width)
    local len = uint(data, pos + 1, width)
    if b <= 0xdd then return decode_array(data, pos + 1 + width, len) end
    return decode_map(data, pos + 1 + width, len)
  elseif b & 0x80 == 0 then return b, pos + 1
  elseif b & 0xe0 == 0xe0 then return b - 256, pos + 1
  elseif b & 0xe0 == 0xa0 then
    local len = b & 0x1f
    need(data, pos, 1 + len)
    return sub(data, pos + 1, pos + len), pos + 1 + len
  elseif b & 0xf0 == 0x90 then return decode_array(data, pos + 1, b & 0xf)
  elseif b & 0xf0 == 0x80 then return decode_map(data, pos + 1, b & 0xf)
  end
  error(BADFMT, 0)
end

-- mp_unpack_full: limit values from offset (0-based); without limit and offset, every value and no offset.
local function unpack_full(data, limit, offset)
  if type(data) == 'number' then data = tostring51(data) end
  if type(data) ~= 'string' then
    error("bad argument #1 to 'unpack' (string expected, got " .. (data == nil and 'no value' or type(data)) .. ')', 0)
  end
  local len = #data
  if offset < 0 or limit < 0 then
    error(format('Invalid request to unpack with offset of %d and limit of %d.', offset, len), 0)
  elseif offset > len then
    error(format('Start offset %d greater than input length %d.', offset, len), 0)
  end
  local all = limit == 0 and offset == 0
  if all then limit = 2147483647 end
  local results, count, pos = {}, 0, offset + 1
  while pos <= len and count < limit do
    local ok, value, after = pcall(decode, data, pos)
    if not ok then
      if value == EOF then error('Missing bytes in input.', 0) end
      if value == BADFMT then error('Bad data format in input.', 0) end
      error(value, 0)
    end
    count = count + 1
    results[count] = value
    pos = after
  end
  if all then return unpack(results, 1, count) end
  return pos > len and -1 or pos - 1, unpack(results, 1, count)
end

local function integer(value, position, name, default)
  if value == nil and default then return default end
  local n = tonumber(value)
  if n == nil then
    error('bad argument #' .. position .. " to '" .. name .. "' (number expected, got "
      .. (value == nil and 'no value' or type(value)) .. ')', 0)
  end
  return n
end

return {
  pack = as51('pack', pack),
  unpack = as51('unpack', function(data) return unpack_full(data, 0, 0) end),
  unpack_one = as51('unpack_one', function(data, offset)
    return unpack_full(data, 1, integer(offset, 2, 'unpack_one', 0))
  end, 2, 2),
  unpack_limit = as51('unpack_limit', function(data, limit, offset)
    return unpack_full(data, integer(limit, 2, 'unpack_limit'), integer(offset, 3, 'unpack_limit', 0))
  end, 2, 3),
  _NAME = 'cmsgpack',
  _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
  _DESCRIPTION = 'MessagePack C implementation for Lua',
}
