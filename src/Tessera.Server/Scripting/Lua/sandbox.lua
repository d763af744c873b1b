-- Tessera's script sandbox, run once when the Lua engine starts (Redis's scriptingInit and luaEngineInitEngine).
-- Scripts never see the real globals: EVAL scripts and functions each run in an environment that reads the
-- libraries Redis loads, the redis API, KEYS and ARGV, and refuses writes and unknown names with Redis's messages.
-- Every table a script can reach from there is a read-only view; no path leads back to a table it could change
-- for the scripts after it.
local lib = ...
local lua51 = lib.lua51
local error, rawget, rawset, select, setmetatable, tonumber, tostring, type = error, rawget, rawset, select, setmetatable,
  tonumber, tostring, type
local sub, find, floor, gsub = string.sub, string.find, math.floor, string.gsub
local getinfo, gethook, sethook = debug.getinfo, debug.gethook, debug.sethook
local readonly_tables, tostring51, toint = lua51.readonly_tables, lua51.tostring51, lua51.toint

local function deny() error('Attempt to modify a readonly table', 2) end

-- Makes proxy a read-only view whose reads go to index (a table or a function). Its metatable, as getmetatable
-- shows it, is itself read-only, and its __index is the view again, never what is behind it.
local function seal(proxy, index)
  local shown = setmetatable({}, { __index = { __index = proxy, __newindex = deny }, __newindex = deny, __metatable = false })
  readonly_tables[shown] = true
  readonly_tables[proxy] = true
  return setmetatable(proxy, { __index = index, __newindex = deny, __metatable = shown })
end
local function readonly(t) return seal({}, t) end

local function missing(name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 3)
end

-- The string methods ("x"):rep(3) are the 5.1 ones too, and the string metatable is out of a script's reach
-- (Redis 7.0 leaves its metatable writable; every script after would see a change made there).
local string51 = readonly(lua51.string)
do
  local meta = debug.getmetatable('')
  meta.__index = string51
  meta.__metatable = readonly({ __index = string51 })
  readonly_tables[meta] = true
end

local sandbox = {}
for name, value in pairs(lua51.base) do sandbox[name] = value end
sandbox.string = string51
sandbox.math = readonly(lua51.math)
sandbox.table = readonly(lua51.table)
sandbox.coroutine = readonly(lua51.coroutine)
sandbox.bit = readonly(lib.bit)
sandbox.cjson = readonly(lib.cjson)
sandbox.struct = readonly(lib.struct)
sandbox.cmsgpack = readonly(lib.cmsgpack)

-- Every 100,000 instructions the engine notes a script running past busy-reply-threshold (and serves other
-- clients while it is); a SCRIPT KILL or a library load past its time ends the script with an error raised here.
-- From then on the hook runs at every line, as Redis's does, so a pcall in a loop cannot keep the script alive;
-- the next script's first line sets it back.
local killed = __tessera_killed
local every_line = false
local main_thread = coroutine.running()
local function watchdog()
  local reason = killed()
  if reason then
    every_line = true
    -- The script's own thread too, when this runs in a coroutine it resumed: the coroutine's error would
    -- only end the coroutine.
    sethook(main_thread, watchdog, 'l')
    sethook(watchdog, 'l')
    error({ err = reason }, 0)
  elseif every_line then
    every_line = false
    sethook(watchdog, '', 100000)
  end
end
sethook(watchdog, '', 100000)

-- Redis's luaPushErrorBuff: "-CODE message" keeps its code, anything else is an ERR; trailing newlines go.
local function error_table(text)
  local code, message = 'ERR', text
  if sub(text, 1, 1) == '-' then
    local space = find(text, ' ', 1, true)
    if space then
      code, message = sub(text, 2, space - 1), sub(text, space + 1)
    else
      message = sub(text, 2)
    end
  end
  message = gsub(gsub(message, '^[\r\n]+', ''), '[\r\n]+$', '')
  return { err = code .. ' ' .. message }
end
local function raise(text) error(error_table(text), 0) end

local version = __tessera_redis_version
local major, minor, patch = version:match('^(%d+)%.(%d+)%.(%d+)')
local version_num = (tonumber(major) << 16) | (tonumber(minor) << 8) | tonumber(patch)

local function log(...)
  if select('#', ...) < 2 then raise('redis.log() requires two arguments or more.') end
  local level = tonumber((...))
  if not level then raise('First argument must be a number (log level).') end
  level = toint(level)
  if level < 0 or level > 3 then raise('Invalid debug level.') end
  local parts = {}
  for i = 2, select('#', ...) do
    local v = select(i, ...)
    if type(v) == 'number' then parts[#parts + 1] = tostring51(v)
    elseif type(v) == 'string' then parts[#parts + 1] = v end
  end
  __tessera_log(level, table.concat(parts, ' '))
end

-- redis.call and redis.pcall run the command in C#; an error comes back as a table, raised here so that no
-- Lua error ever unwinds through managed code.
local call, set_repl, acl_check = __tessera_call, __tessera_set_repl, __tessera_acl_check
local redis = {
  call = function(...)
    local reply, failed = call(...)
    if failed then error(reply, 0) end
    return reply
  end,
  pcall = function(...)
    return (call(...))
  end,
  error_reply = function(...)
    local message = ...
    if select('#', ...) ~= 1 or type(message) ~= 'string' then return error_table('wrong number or type of arguments') end
    return error_table(sub(message, 1, 1) == '-' and message or '-' .. message)
  end,
  status_reply = function(...)
    local message = ...
    if select('#', ...) ~= 1 or type(message) ~= 'string' then return error_table('wrong number or type of arguments') end
    return { ok = message }
  end,
  sha1hex = function(...)
    if select('#', ...) ~= 1 then raise('wrong number of arguments') end
    local text = ...
    if type(text) == 'number' then text = tostring51(text) end
    return __tessera_sha1hex(type(text) == 'string' and text or '')
  end,
  setresp = function(...)
    if select('#', ...) ~= 1 then raise('redis.setresp() requires one argument.') end
    local resp = toint(tonumber((...)) or 0)
    if resp ~= 2 and resp ~= 3 then raise('RESP version must be 2 or 3.') end
    __tessera_setresp(resp)
  end,
  set_repl = function(...)
    if select('#', ...) ~= 1 then raise('redis.set_repl() requires two arguments.') end
    local flags = toint(tonumber((...)) or 0)
    if flags & ~3 ~= 0 then raise('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.') end
    set_repl(flags)
  end,
  acl_check_cmd = function(...)
    local allowed, failed = acl_check(...)
    if failed then error(allowed, 0) end
    return allowed
  end,
  log = log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
}
local function_redis = readonly(redis)
-- EVAL's redis table also has the debugger's entry points (no debugger here: a breakpoint is never taken) and
-- the deprecated replicate_commands, which effects replication makes always true.
local eval_redis = readonly(setmetatable({
  breakpoint = function() return false end,
  debug = function() end,
  replicate_commands = function() return true end,
}, { __index = redis }))

-- An environment: a read-only table whose reads go to lookup(name), then to the functions bound to it (_G,
-- loadstring, getfenv ...); a name neither knows is an error.
local function environment(lookup)
  local env = {}
  local own = lua51.environment_functions(env)
  own._G = env
  seal(env, function(_, name)
    local value = lookup(name, own)
    if value == nil then missing(name) end
    return value
  end)
  return env
end

-- EVAL scripts: KEYS and ARGV of the call, then the sandbox.
local per_call = {}
__tessera_per_call = per_call
__tessera_env = environment(function(name, own)
  if name == 'redis' then return eval_redis end
  local value = per_call[name]
  if value ~= nil then return value end
  value = sandbox[name]
  if value ~= nil then return value end
  return own[name]
end)

-- Redis 7 functions. A library's code runs once at FUNCTION LOAD in an environment that has only a redis table
-- to register functions with (and log); the functions it registers see the full sandbox when FCALL runs them.
local loading = false
local registered = {}

local flag_names = { ['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true,
  ['allow-cross-slot-keys'] = true }
local function register_error(text) raise(text) end
local function read_flags(flags)
  local out = {}
  local i = 1
  while true do
    local flag = rawget(flags, i)
    if flag == nil then break end
    if type(flag) ~= 'string' and type(flag) ~= 'number' then register_error('unknown flag given') end
    flag = tostring51(flag):lower()
    if not flag_names[flag] then register_error('unknown flag given') end
    out[#out + 1] = flag
    i = i + 1
  end
  return out
end
local function register_function(...)
  if not loading then raise('redis.register_function can only be called on FUNCTION LOAD command') end
  local argc = select('#', ...)
  if argc < 1 or argc > 2 then register_error('wrong number of arguments to redis.register_function') end
  local name, callback, flags, description
  if argc == 1 then
    local args = ...
    if type(args) ~= 'table' then
      register_error('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
    end
    for key, value in next, args do
      if type(key) ~= 'string' and type(key) ~= 'number' then
        register_error('named argument key given to redis.register_function is not a string')
      end
      key = tostring51(key):lower()
      if key == 'function_name' then
        if type(value) ~= 'string' and type(value) ~= 'number' then
          register_error('function_name argument given to redis.register_function must be a string')
        end
        name = tostring51(value)
      elseif key == 'description' then
        if type(value) ~= 'string' and type(value) ~= 'number' then
          register_error('description argument given to redis.register_function must be a string')
        end
        description = tostring51(value)
      elseif key == 'callback' then
        if type(value) ~= 'function' then
          register_error('callback argument given to redis.register_function must be a function')
        end
        callback = value
      elseif key == 'flags' then
        if type(value) ~= 'table' then
          register_error('flags argument to redis.register_function must be a table representing function flags')
        end
        flags = read_flags(value)
      else
        register_error('unknown argument given to redis.register_function')
      end
    end
    if name == nil then register_error('redis.register_function must get a function name argument') end
    if callback == nil then register_error('redis.register_function must get a callback argument') end
  else
    name, callback = ...
    if type(name) ~= 'string' and type(name) ~= 'number' then
      register_error('first argument to redis.register_function must be a string')
    end
    name = tostring51(name)
    if type(callback) ~= 'function' then register_error('second argument to redis.register_function must be a function') end
  end
  if name == '' or find(name, '[^%w_]') then
    register_error('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  if registered[name] then register_error('Function already exists in the library') end
  local info = getinfo(callback, 'S')
  registered[name] = { callback = callback, flags = flags or {}, description = description,
    first_line = info.linedefined, last_line = info.lastlinedefined }
end
local load_redis = readonly(setmetatable({
  register_function = register_function, log = log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
}, { __index = function(_, name) missing(name) end }))

__tessera_function_env = environment(function(name, own)
  if loading then
    return name == 'redis' and load_redis or nil
  end
  if name == 'redis' then return function_redis end
  local value = sandbox[name]
  if value ~= nil then return value end
  return own[name]
end)

-- Runs a library's code; returns the functions it registered (name -> {callback, flags, description}).
__tessera_load_library = function(chunk)
  registered, loading = {}, true
  local ok, err = xpcall(chunk, __tessera_error_handler)
  loading = false
  if not ok then error(err, 0) end
  return registered
end

-- Lua 5.4 words a runtime error "attempt to call a nil value (field 'x')", 5.1 "attempt to call field 'x' (a nil
-- value)".
local function message51(text)
  return (gsub(text, "attempt to ([%a ]-) an? (%a+) value %((%a+) '(.-)'%)", "attempt to %1 %3 '%4' (a %2 value)"))
end

-- The message handler of every script call: strings become ERR errors, and the error remembers the script
-- line it was raised on, for Redis's "script: <sha>, on @user_script:<line>." suffix.
__tessera_error_handler = function(err)
  if type(err) == 'string' then
    err = { err = 'ERR ' .. message51(err) }
  elseif type(err) ~= 'table' then
    err = { err = 'ERR ' .. tostring51(err) }
  elseif readonly_tables[err] then
    err = {}
  end
  for level = 2, 32 do
    local info = getinfo(level, 'Sl')
    if not info then break end
    if info.source == '@user_script' or info.source == '@user_function' then
      rawset(err, 'line', info.currentline)
      break
    end
  end
  return err
end
