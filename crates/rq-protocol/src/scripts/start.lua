-- Starts a batch of taken jobs (start.rs): per job, the writes of RQ's two start transactions,
-- applied only while its id is still in the intermediate list the take moved it into.
-- No KEYS. ARGV: prefix, now (RQ datetime text), now (unix float, Python's repr), now (unix
-- seconds), then per job: job_id, execution_id, worker, queue, popped_from, ttl.
-- Returns {job_id, error, ...} for the jobs whose start raised (empty when all went in).
local NOT_TAKEN = 'not in the intermediate list (already ended, or requeued as stuck)'
local p, ts, f, now_s = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local function start(id, eid, worker, q, from, ttl)
  local score = now_s + ttl
  local member = id .. ':' .. eid
  local exec_key = p .. ':execution:' .. id .. ':' .. eid
  local executions = p .. ':executions:' .. id
  local worker_key = p .. ':worker:' .. worker
  local worker_execs = worker_key .. ':executions'
  local job_key = p .. ':job:' .. id
  local taken = p .. ':queue:' .. from .. ':intermediate'
  -- The guard (see the module docs). The id leaves the list last, as in RQ's start
  -- transaction: a start that fails half-way leaves it there for maintenance.
  if not redis.call('LPOS', taken, id) then error({err = NOT_TAKEN}) end
  redis.call('HSET', exec_key, 'id', eid, 'created_at', f, 'last_heartbeat', f,
    'worker_name', worker, 'job_id', id)
  redis.call('EXPIRE', exec_key, ttl)
  redis.call('ZADD', executions, score + 60, eid)
  redis.call('EXPIRE', executions, ttl + 60)
  redis.call('ZADD', p .. ':wip:' .. q, score, member)
  redis.call('SADD', worker_execs, member)
  -- It expires with the worker hash (RQ 3.0's worker heartbeat sets both).
  redis.call('EXPIRE', worker_execs, ttl)
  redis.call('HSET', worker_key, 'state', 'busy', 'current_job', id,
    'current_job_working_time', '0', 'last_heartbeat', ts)
  redis.call('EXPIRE', worker_key, ttl)
  redis.call('HSET', job_key, 'last_heartbeat', ts, 'status', 'started', 'started_at', ts,
    'worker_name', worker)
  redis.call('LREM', taken, 1, id)
  -- The enqueue-time `ttl` no longer applies once the job runs (§7.4).
  redis.call('PERSIST', job_key)
end
local failed = {}
for i = 5, #ARGV, 6 do
  local ok, err = pcall(start, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
    tonumber(ARGV[i + 5]))
  if not ok then
    failed[#failed + 1] = ARGV[i]
    failed[#failed + 1] = type(err) == 'table' and (err.err or 'error') or tostring(err)
  end
end
return failed
