-- Releases every dependent of a parent that ended outside the job-end script (a job failed as
-- abandoned by maintenance). Needs lib/rate_limit.lua and lib/dependents.lua before it.
-- No KEYS. ARGV: prefix, parent_id, parent_status, now, now_unix. Returns the ids enqueued.
local p, parent = ARGV[1], ARGV[2]
local deps = redis.call('SMEMBERS', p .. ':job:' .. parent .. ':dependents')
return release_dependents(p, parent, ARGV[3], deps, ARGV[4], tonumber(ARGV[5]))
