-- wrk script: spread requests over many signed-in users.
-- BENCH_USERS_FILE names a file of "<access token> <owner uuid>" lines (bench/run.py writes
-- it). Every request carries one user's token (Taskwell) and owner id (the ceiling, which
-- decodes nothing); each wrk thread walks the users round-robin from its own offset.
local requests = {}
local next_index = 1
local threads_seen = 0

function setup(thread)
  thread:set("offset", threads_seen * 7919)
  threads_seen = threads_seen + 1
end

function init(args)
  local path = os.getenv("BENCH_USERS_FILE")
  local file = assert(io.open(path, "r"), "cannot open BENCH_USERS_FILE")
  for line in file:lines() do
    local token, owner = line:match("^(%S*)%s+(%S+)$")
    if owner then
      local headers = { ["X-Owner"] = owner }
      if token ~= "" and token ~= "-" then
        headers["Authorization"] = "Bearer " .. token
      end
      requests[#requests + 1] = wrk.format("GET", nil, headers)
    end
  end
  file:close()
  assert(#requests > 0, "no users in BENCH_USERS_FILE")
  next_index = (tonumber(offset) or 0) % #requests + 1
end

function request()
  local req = requests[next_index]
  next_index = next_index % #requests + 1
  return req
end
