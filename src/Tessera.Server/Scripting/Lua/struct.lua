-- The struct library Redis ships (Roberto Ierusalimschy's lua_struct, as Redis builds it on x86-64 Linux):
-- struct.pack, struct.unpack and struct.size with its format language: > < ! for byte order and alignment,
-- b B h H l L T i[n] I[n] for integers of 1, 2, 8, 8, 8 and n (default 4, at most 32) bytes, f d for floats,
-- c[n] s for strings, x for a zero byte. Native order is little-endian, the largest alignment 8.
local lib = ...
local lua51 = lib.lua51
local as51, tostring51, number51 = lua51.as51, lua51.tostring51, lua51.number51
local error, select, tonumber, type = error, select, tonumber, type
local byte, char, find, format, match, rep, sub, spack, sunpack = string.byte, string.char, string.find, string.format,
  string.match, string.rep, string.sub, string.pack, string.unpack
local concat, unpack = table.concat, table.unpack
local floor, mathtype, mininteger = math.floor, math.type, math.mininteger

local MAXINTSIZE, MAXALIGN = 32, 8
local SIZES = { b = 1, B = 1, h = 2, H = 2, l = 8, L = 8, T = 8, f = 4, d = 8, x = 1 }

-- A decimal count in fmt at i (as an int, refusing overflow), or default when there is none.
local function getnum(fmt, i, default)
  local c = byte(fmt, i)
  if c == nil or c < 48 or c > 57 then return default, i end
  local a = 0
  repeat
    local d = c - 48
    if a > 214748364 or a * 10 > 2147483647 - d then error('integral size overflow', 0) end
    a = a * 10 + d
    i = i + 1
    c = byte(fmt, i)
  until c == nil or c < 48 or c > 57
  return a, i
end

local function optsize(opt, fmt, i)
  local size = SIZES[opt]
  if size then return size, i end
  if opt == 'c' then return getnum(fmt, i, 1) end
  if opt == 'i' or opt == 'I' then
    size, i = getnum(fmt, i, 4)
    if size > MAXINTSIZE then error(format('integral size %d is larger than limit of %d', size, MAXINTSIZE), 0) end
    return size, i
  end
  return 0, i
end

local function toalign(len, h, opt, size)
  if size == 0 or opt == 'c' then return 0 end
  if size > h.align then size = h.align end
  return (size - (len & (size - 1))) & (size - 1)
end

local function control(opt, fmt, i, h, name)
  if opt == ' ' then return i end
  if opt == '>' then h.big = true return i end
  if opt == '<' then h.big = false return i end
  if opt == '!' then
    local a
    a, i = getnum(fmt, i, MAXALIGN)
    if not (a > 0 and a & (a - 1) == 0) then error(format('alignment %d is not a power of 2', a), 0) end
    h.align = a
    return i
  end
  error("bad argument #1 to '" .. name .. "' (invalid format option '" .. opt .. "')", 0)
end

-- The format as C reads it: up to its first zero byte. Numbers are accepted as their 5.1 text.
local function checkformat(fmt, name)
  if type(fmt) == 'number' then fmt = tostring51(fmt) end
  if type(fmt) ~= 'string' then
    error("bad argument #1 to '" .. name .. "' (string expected, got " .. (fmt == nil and 'no value' or type(fmt)) .. ')', 0)
  end
  return match(fmt, '^[^%z]*')
end

-- pack's arguments are followed by a nil (b_pack pushes one): the first missing argument is "nil", the next ones
-- "no value".
local function missing(value, position, count)
  return value == nil and (position == count + 2 and 'nil' or 'no value') or type(value)
end

local function checknumber(value, position, count)
  local n = tonumber(value)
  if n == nil then
    error('bad argument #' .. position .. " to 'pack' (number expected, got " .. missing(value, position, count) .. ')', 0)
  end
  return n
end

-- The bits C's casts give a number packed as an integer: (unsigned long)(long)n below zero, (unsigned long)n above.
local function integer_bits(n)
  if mathtype(n) == 'integer' then return n end
  if n ~= n or n <= -2 ^ 63 then return mininteger end
  if n < 0 then return -floor(-n) end
  if n >= 2 ^ 64 then return 0 end
  if n >= 2 ^ 63 then return floor(n - 2 ^ 63) + mininteger end
  return floor(n)
end

local function pack(fmt, ...)
  fmt = checkformat(fmt, 'pack')
  local h = { big = false, align = 1 }
  local out, arg, total, i = {}, 2, 0, 1
  local args, count = { ... }, select('#', ...)
  local function argument() return args[arg - 1] end
  while i <= #fmt do
    local opt = sub(fmt, i, i)
    local size
    size, i = optsize(opt, fmt, i + 1)
    local align = toalign(total, h, opt, size)
    total = total + align
    if align > 0 then out[#out + 1] = rep('\0', align) end
    if opt == 'b' or opt == 'B' or opt == 'h' or opt == 'H' or opt == 'l' or opt == 'L' or opt == 'T' or opt == 'i'
      or opt == 'I' then
      local v = integer_bits(checknumber(argument(), arg, count))
      arg = arg + 1
      local bytes = {}
      for k = 1, size do
        bytes[h.big and size - k + 1 or k] = char(v & 0xff)
        v = v >> 8
      end
      out[#out + 1] = concat(bytes)
    elseif opt == 'x' then
      out[#out + 1] = '\0'
    elseif opt == 'f' or opt == 'd' then
      out[#out + 1] = spack((h.big and '>' or '<') .. opt, checknumber(argument(), arg, count))
      arg = arg + 1
    elseif opt == 'c' or opt == 's' then
      local s = argument()
      if type(s) == 'number' then s = tostring51(s) end
      if type(s) ~= 'string' then
        error('bad argument #' .. arg .. " to 'pack' (string expected, got " .. missing(s, arg, count) .. ')', 0)
      end
      arg = arg + 1
      if size == 0 then size = #s end
      if #s < size then error('bad argument #' .. arg .. " to 'pack' (string too short)", 0) end
      out[#out + 1] = sub(s, 1, size)
      if opt == 's' then
        out[#out + 1] = '\0'
        size = size + 1
      end
    else
      i = control(opt, fmt, i, h, 'pack')
    end
    total = total + size
  end
  return concat(out)
end

-- The integer of size bytes at pos (0-based) as C reads it into an unsigned long, sign-extended for a signed
-- option (shift counts beyond 63 wrap as x86-64's do).
local function getinteger(data, pos, size, big, signed)
  local l = 0
  for k = 0, size - 1 do
    l = (l << 8) | byte(data, pos + 1 + (big and k or size - 1 - k))
  end
  if not signed then return number51(l, true) end
  local mask = -1 << ((size * 8 - 1) & 63)
  if l & mask ~= 0 then l = l | mask end
  return number51(l)
end

local function unpack_(fmt, data, pos)
  fmt = checkformat(fmt, 'unpack')
  if type(data) == 'number' then data = tostring51(data) end
  if type(data) ~= 'string' then
    error("bad argument #2 to 'unpack' (string expected, got " .. (data == nil and 'no value' or type(data)) .. ')', 0)
  end
  local offset = pos == nil and 1 or tonumber(pos)
  if offset == nil then error("bad argument #3 to 'unpack' (number expected, got " .. type(pos) .. ')', 0) end
  pos = offset
  if pos <= 0 then error("bad argument #3 to 'unpack' (offset must be 1 or greater)", 0) end
  pos = pos - 1
  local ld = #data
  local h = { big = false, align = 1 }
  local results, n, i = {}, 0, 1
  local function fits(size)
    if not (size <= ld and pos <= ld - size) then error("bad argument #2 to 'unpack' (data string too short)", 0) end
  end
  while i <= #fmt do
    local opt = sub(fmt, i, i)
    local size
    size, i = optsize(opt, fmt, i + 1)
    pos = pos + toalign(pos, h, opt, size)
    fits(size)
    if opt == 'b' or opt == 'B' or opt == 'h' or opt == 'H' or opt == 'l' or opt == 'L' or opt == 'T' or opt == 'i'
      or opt == 'I' then
      n = n + 1
      results[n] = getinteger(data, pos, size, h.big, opt == 'b' or opt == 'h' or opt == 'l' or opt == 'i')
    elseif opt == 'x' then
      -- padding only
    elseif opt == 'f' or opt == 'd' then
      n = n + 1
      results[n] = number51((sunpack((h.big and '>' or '<') .. opt, data, pos + 1)))
    elseif opt == 'c' then
      if size == 0 then
        if n == 0 or tonumber(results[n]) == nil then error("format 'c0' needs a previous size", 0) end
        size = integer_bits(tonumber(results[n]))
        if size < 0 then size = ld + 1 end
        results[n] = nil
        n = n - 1
        fits(size)
      end
      n = n + 1
      results[n] = sub(data, pos + 1, pos + size)
    elseif opt == 's' then
      local e = find(data, '\0', pos + 1, true)
      if e == nil then error('unfinished string in data', 0) end
      size = e - pos
      n = n + 1
      results[n] = sub(data, pos + 1, e - 1)
    else
      i = control(opt, fmt, i, h, 'unpack')
    end
    pos = pos + size
  end
  results[n + 1] = pos + 1
  return unpack(results, 1, n + 1)
end

local function size(fmt)
  fmt = checkformat(fmt, 'size')
  local h = { big = false, align = 1 }
  local pos, i = 0, 1
  while i <= #fmt do
    local opt = sub(fmt, i, i)
    local s
    s, i = optsize(opt, fmt, i + 1)
    pos = pos + toalign(pos, h, opt, s)
    if opt == 's' then
      error("bad argument #1 to 'size' (option 's' has no fixed size)", 0)
    elseif opt == 'c' and s == 0 then
      error("bad argument #1 to 'size' (option 'c0' has no fixed size)", 0)
    end
    if not find(opt, '^%w') then i = control(opt, fmt, i, h, 'size') end
    pos = pos + s
  end
  return pos
end

return {
  pack = as51('pack', pack),
  unpack = as51('unpack', unpack_, 3, 3),
  size = as51('size', size),
}
