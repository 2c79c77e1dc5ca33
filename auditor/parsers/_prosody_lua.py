"""The Lua side of the prosody sandbox: a loader that mimics prosody's configmanager.

Kept apart from prosody.py so the Lua reads as Lua. It runs inside a fresh lupa runtime per file;
`debug`, `os`, `load` and `pcall` are used only by this trusted code, captured in locals before any
configuration code runs. The configuration code itself sees a custom environment (see `lua_ns`).
"""

LOADER = r"""
local load, pcall, error, type, tostring, tonumber, select, next, ipairs, pairs, assert =
      load, pcall, error, type, tostring, tonumber, select, next, ipairs, pairs, assert
local setmetatable, getmetatable = setmetatable, getmetatable
local sethook, getinfo, clock = debug.sethook, debug.getinfo, os.clock
local s_sub, s_lower, s_format, s_rep = string.sub, string.lower, string.format, string.rep
local t_sort, t_insert, t_remove = table.sort, table.insert, table.remove
local tointeger = math.tointeger

local REP_MAX_BYTES = 16 * 1024 * 1024
local REP_MAX_COUNT = 1000000
local TABLE_OP_MAX = 100000

-- What configuration code may call. No pattern matching (C backtracking escapes the hook), no
-- table.move, no string.dump/pack; rep and the table mutators are wrapped so one call stays cheap.
local safe_string = {
  byte = string.byte, char = string.char, format = s_format, len = string.len,
  lower = s_lower, upper = string.upper, sub = s_sub, reverse = string.reverse,
  rep = function(s, n, sep)
    s = tostring(s)
    n = tointeger(n)
    if n == nil then error("bad argument #2 to 'rep' (integer expected)", 2) end
    sep = sep ~= nil and tostring(sep) or ""
    if n > REP_MAX_COUNT or (n > 0 and (#s + #sep) * n > REP_MAX_BYTES) then
      error("string.rep result too large", 2)
    end
    return s_rep(s, n, sep)
  end,
}
local function checked_size(t, what)
  if type(t) == "table" and #t > TABLE_OP_MAX then error(what .. " on a table too large", 3) end
end
local safe_table = {
  concat = table.concat, unpack = table.unpack,
  insert = function(t, ...) checked_size(t, "table.insert"); return t_insert(t, ...) end,
  remove = function(t, ...) checked_size(t, "table.remove"); return t_remove(t, ...) end,
  sort = function(t, f) checked_size(t, "table.sort"); return t_sort(t, f) end,
}
local safe_math = {}
for k, v in next, math do safe_math[k] = v end
local os_stub = { getenv = function() return nil end }

local lua_ns = {
  string = safe_string, table = safe_table, math = safe_math, os = os_stub,
  tostring = tostring, tonumber = tonumber, type = type, select = select, next = next,
  ipairs = ipairs, pairs = pairs, error = error, assert = assert, unpack = table.unpack,
  print = function() end, _VERSION = _VERSION,
}
-- ("x"):rep(…) reaches the string library through the shared string metatable: point it at the
-- safe subset as well.
getmetatable("").__index = safe_string

local function caller_line(level)
  local info = getinfo(level + 1, "l")
  return info and info.currentline or 0
end

return function(src, max_steps, max_seconds, hook_every)
  local sections, by_name, includes, scripts = {}, {}, {}, {}
  local function new_section(kind, name, line)
    local s = { kind = kind, name = name, ctype = nil, line = line, options = {}, lines = {}, order = {} }
    sections[#sections + 1] = s
    return s
  end
  local global = new_section("global", nil, nil)
  local current = global

  local function set_option(section, k, v, line)
    if section.lines[k] == nil then section.order[#section.order + 1] = k end
    section.options[k] = v
    section.lines[k] = line
  end

  local function open_section(kind, name, line)
    if type(name) ~= "string" then error(kind .. " must have a name (a string)", 3) end
    name = s_lower(name)
    local s = by_name[name]
    if s == nil then
      s = new_section(kind, name, line)
      by_name[name] = s
    elseif s.kind ~= kind then
      error(s_format("%s %q clashes with a %s of the same name", kind, name, s.kind), 3)
    end
    current = s
    return s
  end

  local function take_options(s, opts, what)
    current = global  -- the table form returns to the global section, as in prosody
    if type(opts) ~= "table" then
      error("Invalid syntax following " .. what .. ", expected options but received a " .. type(opts), 3)
    end
    local line = caller_line(3)
    for k, v in next, opts do
      if type(k) == "string" then set_option(s, k, v, line) end
    end
  end

  -- prosody 13's option proxies: `modules_enabled:append{…}` and `modules_enabled {…}`.
  local owner = setmetatable({}, { __mode = "k" })
  local function append(self, value)
    if type(value) ~= "table" then
      error("'append' operation expects a list of values to append to the existing list", 2)
    end
    if value[1] ~= nil then
      for _, v in ipairs(value) do self[#self + 1] = v end
    else
      for k, v in next, value do self[k] = v end
    end
    local o = owner[self]
    if o then o[1].lines[o[2]] = caller_line(2) end
    return self
  end
  local option_mt = {
    __index = { append = append, value = function(self) return self end },
    __call = function(self, v2)
      if type(v2) == "table" then return append(self, v2) end
      error("Invalid syntax - missing '=' perhaps?", 2)
    end,
  }

  local api = {}
  function api.VirtualHost(name)
    local s = open_section("VirtualHost", name, caller_line(2))
    return function(opts) take_options(s, opts, "VirtualHost") end
  end
  api.Host, api.host = api.VirtualHost, api.VirtualHost
  function api.Component(name)
    local s = open_section("Component", name, caller_line(2))
    return function(module)
      if type(module) == "string" then
        s.ctype = module
        return function(opts) take_options(s, opts, "Component") end
      end
      take_options(s, module, "Component")
    end
  end
  api.component = api.Component
  function api.Include(file)
    if type(file) ~= "string" then error("Include expects a file name", 2) end
    includes[#includes + 1] = { file, caller_line(2) }
  end
  api.include = api.Include
  function api.RunScript(file)
    scripts[#scripts + 1] = { tostring(file), caller_line(2) }
  end
  local function placeholder(file) return { __file__ = tostring(file) } end
  for _, name in ipairs({ "FileContents", "FileLine", "FileLines", "Credential" }) do
    api[name] = placeholder
  end

  local env = setmetatable({}, {
    __index = function(_, k)
      if type(k) ~= "string" then return nil end
      local f = api[k]
      if f ~= nil then return f end
      if s_sub(k, 1, 4) == "ENV_" then return nil end  -- the target's environment is not known here
      if k == "Lua" then return lua_ns end
      local v = current.options[k]
      if v ~= nil then
        if type(v) == "table" then
          owner[v] = { current, k }
          if getmetatable(v) == nil then setmetatable(v, option_mt) end
        end
        return v
      end
      return lua_ns[k]
    end,
    __newindex = function(_, k, v)
      if type(k) ~= "string" then error("option names must be strings", 2) end
      set_option(current, k, v, caller_line(2))
    end,
  })

  local chunk, err = load(src, "=cfg", "t", env)
  if not chunk then return false, err end
  local steps, limit_at = 0, clock() + max_seconds
  local function stop(why)  -- name the configuration's line even when a loader function was running
    for level = 3, 40 do
      local info = getinfo(level, "Sl")
      if info == nil then break end
      if info.source == "=cfg" then error("cfg:" .. info.currentline .. ": " .. why, 0) end
    end
    error(why, 0)
  end
  sethook(function()
    steps = steps + hook_every
    if steps > max_steps then stop("instruction limit exceeded (endless loop?)") end
    if clock() > limit_at then stop("time limit exceeded") end
  end, "", hook_every)
  local ok, run_err = pcall(chunk)
  sethook()
  if not ok then
    if type(run_err) ~= "string" then run_err = "error raised with a " .. type(run_err) .. " value" end
    return false, run_err
  end
  return true, sections, includes, scripts
end
"""
