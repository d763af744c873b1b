-- The cjson library Redis ships (lua-cjson 2.1): cjson's array/object rules, escapes and number format, its
-- settings (encode_sparse_array, encode_max_depth, decode_max_depth, encode_number_precision,
-- encode_keep_buffer, encode_invalid_numbers, decode_invalid_numbers) and cjson.new for a copy with settings of its
-- own; cjson.null is a light userdata. Objects list their keys in Lua's table order, which may differ from Redis's.
local lib = ...
local as51, tostring51, number51 = lib.lua51.as51, lib.lua51.tostring51, lib.lua51.number51
local error, ipairs, pairs, select, tonumber, tostring, type = error, ipairs, pairs, select, tonumber, tostring, type
local concat, byte, format, sub, find, gsub, lower, match = table.concat, string.byte, string.format, string.sub,
  string.find, string.gsub, string.lower, string.match
local floor, huge, mathtype, utf8_char = math.floor, math.huge, math.type, utf8.char
local null = __tessera_null
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function escape(text)
  return '"' .. gsub(text, '[%c"\\/]', function(c) return escapes[c] or format('\\u%04x', byte(c)) end) .. '"'
end

local encode_value
local function encode_table(cfg, t, depth, out)
  if depth > cfg.encode_max_depth then error(format('Cannot serialise, excessive nesting (%d)', depth), 0) end
  local max, items, is_array = 0, 0, true
  for k in pairs(t) do
    if mathtype(k) == 'integer' and k > 0 or (type(k) == 'number' and k > 0 and floor(k) == k) then
      -- cjson keeps the largest key in a C int: a key past INT_MAX lands there as INT_MIN (x86).
      if k > max then max = k > 2147483647 and -2147483648 or k end
      items = items + 1
    else
      is_array = false
      break
    end
  end
  if is_array and max > 0 and cfg.sparse_ratio > 0 and max > items * cfg.sparse_ratio and max > cfg.sparse_safe then
    if cfg.sparse_convert == 0 then error('Cannot serialise table: excessively sparse array', 0) end
    is_array = false
  end
  if is_array and max > 0 then
    out[#out + 1] = '['
    for i = 1, max do
      if i > 1 then out[#out + 1] = ',' end
      local v = t[i]
      if v == nil then out[#out + 1] = 'null' else encode_value(cfg, v, depth + 1, out) end
    end
    out[#out + 1] = ']'
    return
  end
  out[#out + 1] = '{'
  local first = true
  for k, v in pairs(t) do
    local key = type(k) == 'string' and k or type(k) == 'number' and format(cfg.number_format, k)
      or error('Cannot serialise table: table key must be a number or string', 0)
    if not first then out[#out + 1] = ',' end
    first = false
    out[#out + 1] = escape(key)
    out[#out + 1] = ':'
    encode_value(cfg, v, depth + 1, out)
  end
  out[#out + 1] = '}'
end

encode_value = function(cfg, v, depth, out)
  local kind = type(v)
  if kind == 'string' then out[#out + 1] = escape(v)
  elseif kind == 'number' then
    local invalid = v ~= v or v == huge or v == -huge
    if invalid and cfg.encode_invalid == 0 then
      error('Cannot serialise number: must not be NaN or Inf', 0)
    elseif invalid and cfg.encode_invalid == 2 then
      out[#out + 1] = 'null'
    elseif v ~= v then
      out[#out + 1] = 'nan'
    else
      out[#out + 1] = format(cfg.number_format, v)
    end
  elseif kind == 'boolean' then out[#out + 1] = tostring(v)
  elseif v == nil or v == null then out[#out + 1] = 'null'
  elseif kind == 'table' then encode_table(cfg, v, depth, out)
  else error('Cannot serialise ' .. kind .. ': type not supported', 0) end
end

-- C's strtod at pos: the number and the position after it, or nil when none starts there.
local function strtod(text, pos)
  local negative = false
  local c = sub(text, pos, pos)
  if c == '+' or c == '-' then
    negative = c == '-'
    pos = pos + 1
  end
  local word = lower(sub(text, pos, pos + 7))
  local value, after
  if word == 'infinity' then
    value, after = huge, pos + 8
  elseif sub(word, 1, 3) == 'inf' then
    value, after = huge, pos + 3
  elseif sub(word, 1, 3) == 'nan' then
    value, after = 0 / 0, match(text, '^%([%w_]*%)()', pos + 3) or pos + 3
  elseif match(text, '^0[xX]%.?%x', pos) then
    local digits = match(text, '^%x*%.?%x*', pos + 2)
    local exponent = match(text, '^[pP][-+]?%d+', pos + 2 + #digits) or ''
    if find(digits, '.', 1, true) or exponent ~= '' then
      value = tonumber('0x' .. digits .. exponent)
    else
      -- Accumulated as a double: Lua would wrap a long hex integer around 2^64.
      value = 0.0
      for i = 1, #digits do value = value * 16 + tonumber(sub(digits, i, i), 16) end
    end
    after = pos + 2 + #digits + #exponent
  else
    local digits = match(text, '^%d*%.?%d*', pos)
    if not find(digits, '%d') then return nil end
    local exponent = match(text, '^[eE][-+]?%d+', pos + #digits) or ''
    value, after = tonumber(digits .. exponent), pos + #digits + #exponent
  end
  value = value + 0.0
  return negative and -value or value, after
end

-- cjson's json_is_invalid_number: what JSON does not allow but strtod reads (a sign +, hex, leading zeros, inf, nan).
local function is_invalid_number(text, pos)
  local c = sub(text, pos, pos)
  if c == '+' then return true end
  if c == '-' then pos = pos + 1 c = sub(text, pos, pos) end
  if c == '0' then
    local next = sub(text, pos + 1, pos + 1)
    return lower(next) == 'x' or match(next, '%d') ~= nil
  elseif c == '' or byte(c) <= 57 then
    return false
  end
  local word = lower(sub(text, pos, pos + 2))
  return word == 'inf' or word == 'nan'
end

local function decode(cfg, text)
  if type(text) == 'number' then text = tostring51(text) end
  if type(text) ~= 'string' then
    error("bad argument #1 to 'decode' (string expected, got " .. (text == nil and 'nil' or type(text)) .. ')', 0)
  end
  local pos, depth = 1, 0
  local tokens = { ['{'] = 'T_OBJ_BEGIN', ['}'] = 'T_OBJ_END', ['['] = 'T_ARR_BEGIN', [']'] = 'T_ARR_END',
    [','] = 'T_COMMA', [':'] = 'T_COLON', ['"'] = 'T_STRING' }
  -- The number at pos and the position after it, nil when it is not one (json_next_token's number cases).
  local function number_at()
    local c = sub(text, pos, pos)
    local looks = c == '-' or match(c, '%d') ~= nil
    if not looks and not (cfg.decode_invalid == 1 and is_invalid_number(text, pos)) then return nil, false end
    if cfg.decode_invalid == 0 and is_invalid_number(text, pos) then return nil, true end
    local n, after = strtod(text, pos)
    return n, n == nil, after
  end
  local function fail(expected)
    local c = sub(text, pos, pos)
    local found = c == '' and 'T_END' or tokens[c]
    if not found then
      local n, invalid = number_at()
      found = n and 'T_NUMBER' or invalid and 'invalid number'
        or ((sub(text, pos, pos + 3) == 'true' or sub(text, pos, pos + 4) == 'false') and 'T_BOOLEAN')
        or (sub(text, pos, pos + 3) == 'null' and 'T_NULL') or 'invalid token'
    end
    error('Expected ' .. expected .. ' but found ' .. found .. ' at character ' .. pos, 0)
  end
  local function skip() pos = find(text, '[^ \t\r\n]', pos) or #text + 1 end
  local value
  local function parse_string()
    local out, i = {}, pos + 1
    while true do
      local c = sub(text, i, i)
      if c == '' then fail('value') end
      if c == '"' then pos = i + 1 return concat(out) end
      if c == '\\' then
        local e = sub(text, i + 1, i + 1)
        local simple = ({ b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/' })[e]
        if simple then out[#out + 1] = simple i = i + 2
        elseif e == 'u' then
          local code = tonumber(sub(text, i + 2, i + 5), 16) or fail('value')
          i = i + 6
          if code >= 0xD800 and code <= 0xDBFF and sub(text, i, i + 1) == '\\u' then
            local low = tonumber(sub(text, i + 2, i + 5), 16)
            if low and low >= 0xDC00 and low <= 0xDFFF then
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
              i = i + 6
            end
          end
          out[#out + 1] = utf8_char(code)
        else fail('value') end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
  end
  -- The items of an object or array up to its closing character, separated by commas.
  local function elements(close, what, item)
    depth = depth + 1
    if depth > cfg.decode_max_depth then error(format('Found too many nested data structures (%d) at character %d', depth, pos), 0) end
    pos = pos + 1
    skip()
    if sub(text, pos, pos) == close then pos = pos + 1 depth = depth - 1 return end
    while true do
      item()
      skip()
      local d = sub(text, pos, pos)
      if d == close then pos = pos + 1 depth = depth - 1 return end
      if d ~= ',' then fail('comma or ' .. what .. ' end') end
      pos = pos + 1
    end
  end
  value = function()
    skip()
    local c = sub(text, pos, pos)
    if c == '{' then
      local t = {}
      elements('}', 'object', function()
        skip()
        if sub(text, pos, pos) ~= '"' then fail('object key string') end
        local key = parse_string()
        skip()
        if sub(text, pos, pos) ~= ':' then fail('colon') end
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
    elseif sub(text, pos, pos + 3) == 'true' then pos = pos + 4 return true
    elseif sub(text, pos, pos + 4) == 'false' then pos = pos + 5 return false
    elseif sub(text, pos, pos + 3) == 'null' then pos = pos + 4 return null
    else
      local n, _, after = number_at()
      if not n then fail('value') end
      pos = after
      return number51(n)
    end
  end
  local result = value()
  skip()
  if pos <= #text then fail('the end') end
  return result
end

-- Settings functions (json_arg_init, json_integer_option, json_enum_option): with no argument they only answer
-- the current setting.
local function check_arity(name, count, ...)
  if select('#', ...) > count then
    error('bad argument #' .. (count + 1) .. " to '" .. name .. "' (found too many arguments)", 0)
  end
end
local function integer_option(cfg, field, value, min, max)
  if value ~= nil then
    local n = tonumber(value)
    if n == nil then error("bad argument #1 to 'cjson' (number expected, got " .. type(value) .. ')', 0) end
    if n < min or n > max then error(format("bad argument #1 to 'cjson' (expected integer between %d and %d)", min, max), 0) end
    cfg[field] = n
  end
  return cfg[field]
end
local function enum_option(cfg, field, value, options)
  if value ~= nil then
    if type(value) == 'boolean' then
      cfg[field] = value and 1 or 0
    else
      local found
      for i, option in ipairs(options) do
        if option == value then found = i - 1 end
      end
      if found == nil then error("bad argument #1 to 'cjson' (invalid option '" .. tostring51(value) .. "')", 0) end
      cfg[field] = found
    end
  end
  local setting = cfg[field]
  if setting <= 1 then return setting == 1 end
  return options[setting + 1]
end
local ON_OFF = { 'off', 'on' }

local function new()
  local cfg = { sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10, encode_max_depth = 1000,
    decode_max_depth = 1000, precision = 14, number_format = '%.14g', keep_buffer = 1, encode_invalid = 0,
    decode_invalid = 1 }
  local module = {
    encode = as51('encode', function(...)
      if select('#', ...) ~= 1 then error("bad argument #1 to 'encode' (expected 1 argument)", 0) end
      local out = {}
      encode_value(cfg, (...), 1, out)
      return concat(out)
    end),
    decode = as51('decode', function(...)
      if select('#', ...) ~= 1 then error("bad argument #1 to 'decode' (expected 1 argument)", 0) end
      return decode(cfg, (...))
    end),
    encode_sparse_array = as51('encode_sparse_array', function(...)
      check_arity('encode_sparse_array', 3, ...)
      local convert, ratio, safe = ...
      return enum_option(cfg, 'sparse_convert', convert, ON_OFF), integer_option(cfg, 'sparse_ratio', ratio, 0, 2147483647),
        integer_option(cfg, 'sparse_safe', safe, 0, 2147483647)
    end, 2, 3),
    encode_max_depth = as51('encode_max_depth', function(...)
      check_arity('encode_max_depth', 1, ...)
      return integer_option(cfg, 'encode_max_depth', (...), 1, 2147483647)
    end, 1, 1),
    decode_max_depth = as51('decode_max_depth', function(...)
      check_arity('decode_max_depth', 1, ...)
      return integer_option(cfg, 'decode_max_depth', (...), 1, 2147483647)
    end, 1, 1),
    encode_number_precision = as51('encode_number_precision', function(...)
      check_arity('encode_number_precision', 1, ...)
      local precision = integer_option(cfg, 'precision', (...), 1, 14)
      cfg.number_format = '%.' .. precision .. 'g'
      return precision
    end, 1, 1),
    encode_keep_buffer = as51('encode_keep_buffer', function(...)
      check_arity('encode_keep_buffer', 1, ...)
      return enum_option(cfg, 'keep_buffer', (...), ON_OFF)
    end),
    encode_invalid_numbers = as51('encode_invalid_numbers', function(...)
      check_arity('encode_invalid_numbers', 1, ...)
      return enum_option(cfg, 'encode_invalid', (...), { 'off', 'on', 'null' })
    end),
    decode_invalid_numbers = as51('decode_invalid_numbers', function(...)
      check_arity('decode_invalid_numbers', 1, ...)
      return enum_option(cfg, 'decode_invalid', (...), ON_OFF)
    end),
    null = null,
    _NAME = 'cjson',
    _VERSION = '2.1.0',
  }
  return module
end

local cjson = new()
cjson.new = new
return cjson
