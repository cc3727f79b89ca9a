-- The ends of a batch of jobs (end_guard.rs): each applied only while its execution is still in
-- `rq:wip:<q>` (a job never started: while its id is in the intermediate list), with the release
-- of its dependents in the same step. Needs lib/rate_limit.lua and lib/dependents.lua before it.
-- No KEYS. ARGV: prefix, now, now_unix, results_maxlen, idle_worker_ttl, then per job one 'R'
-- (commands), 'S' (compact success) or 'U' (unstarted success) entry, see `END_SCRIPT`.
-- Returns {applied, counts, totals, errors, (job_index, dependent)...}.
local A = ARGV
local call, rpcall = redis.call, redis.pcall
local p, now, ts = A[1], A[2], tonumber(A[3])
local maxlen, idle_ttl = A[4], A[5]
local n = #A
local errors = 0
-- A command as MULTI runs it: an error is counted, the others still run.
local function c(...)
  local r = rpcall(...)
  if type(r) == 'table' and r.err then errors = errors + 1 end
end
local applied, counts, totals, errs, released = {}, {}, {}, {}, {}
-- The compact successes' `ZADD`s to a finished registry are sent as one `ZADD` of all their
-- ids per registry (issue 17: one call per job less). Redis ends in the same state: the script
-- is atomic (nobody sees the steps), nothing between reads a finished registry (a dependent's
-- release reads job hashes only), and they are written out before any other end's commands,
-- which could touch the registry.
local fin_keys, fin_add, fin_job = {}, {}, {}
local function flush()
  for _, k in ipairs(fin_keys) do
    local before, a = errors, fin_add[k]
    errors = 0
    for s = 1, #a, 1000 do
      c('ZADD', k, unpack(a, s, math.min(s + 999, #a)))
    end
    -- A refused `ZADD` is counted on the registry's last job.
    errs[fin_job[k]] = errs[fin_job[k]] + errors
    errors = before
  end
  fin_keys, fin_add, fin_job = {}, {}, {}
end
-- Per worker, the successes applied so far in this call, and whether an end sent as commands
-- was applied (it adds its working time itself): see `success`.
local counted, touched = {}, {}
-- `lifecycle::succeed` for a result kept `rttl` > 0 seconds and no repeat, from 14 fields at
-- `f` (the common end, issue 17): the same writes in the same order, but for a few, which
-- Redis ends in the same state with. The finished registry's `ZADD` is shared (above). And
-- the worker's counters are set, not incremented, when the worker knows them (a slot's worker
-- hash is written by that slot alone), in the `HSET` of the idle state (two calls per job
-- less): `count` is `successful_job_count` after this success if it is the worker's first in
-- this call, and `counted` adds the others, so the value is what `HINCRBY` would leave;
-- `total` is the text `HINCRBYFLOAT` would leave in `total_working_time` (the worker computes
-- it as Redis does, `rq::incrbyfloat`), valid only while no other end of the worker was
-- applied in this call (else incremented). `unstarted`: the job's start was never written (it
-- ended before the writer sent it), so what the start would have created and this end would
-- delete (execution hash and index, `rq:wip` and worker-execution members, `current_job`) is
-- not written at all, the fields both write get the end's values, and the job hash gets the
-- start's fields in the start's order: Redis ends as start + end leave it (tests/end_guard.rs
-- compares the two).
local function success(f, wip, member, id, deps_key, no_deps, unstarted, j)
  local fin, eid, w, rttl = A[f], A[f + 1], A[f + 2], A[f + 3]
  local rv, st, sf, et, ef = A[f + 4], A[f + 5], A[f + 6], A[f + 7], A[f + 8]
  local score, working, has_deps = A[f + 9], A[f + 10], A[f + 11]
  local count, total = A[f + 12], A[f + 13]
  local job, wk, res = p .. ':job:' .. id, p .. ':worker:' .. w, p .. ':results:' .. id
  local add = fin_add[fin]
  if not add then
    add = {}
    fin_add[fin] = add
    fin_keys[#fin_keys + 1] = fin
  end
  add[#add + 1] = score
  add[#add + 1] = id
  fin_job[fin] = j
  local k = (counted[w] or 0) + 1
  counted[w] = k
  if count == '' then
    -- The worker does not know the count (a slot's first job, or after an end it could not
    -- tell was applied): incremented, and the reply tells it.
    local r = rpcall('HINCRBY', wk, 'successful_job_count', '1')
    if type(r) == 'table' and r.err then errors = errors + 1 else counts[j] = tostring(r) end
  elseif k > 1 then
    count = tostring(tonumber(count) + k - 1)
  end
  if total == '' or k > 1 or touched[w] then
    total = ''
    local r = rpcall('HINCRBYFLOAT', wk, 'total_working_time', working)
    if type(r) == 'table' and r.err then errors = errors + 1 else totals[j] = r end
  end
  if unstarted then
    c('HSET', job, 'last_heartbeat', et, 'status', 'finished', 'started_at', st, 'worker_name', w,
      'ended_at', et)
  else
    c('HSET', job, 'status', 'finished', 'started_at', st, 'ended_at', et, 'last_heartbeat', et,
      'worker_name', w)
  end
  if rv ~= '' then
    c('XADD', res, 'MAXLEN', '~', maxlen, '*', 'type', '1', 'worker_name', w, 'return_value', rv,
      'execution_id', eid, 'execution_started_at', sf, 'execution_ended_at', ef)
  else
    c('XADD', res, 'MAXLEN', '~', maxlen, '*', 'type', '1', 'worker_name', w,
      'execution_id', eid, 'execution_started_at', sf, 'execution_ended_at', ef)
  end
  c('EXPIRE', res, rttl)
  c('EXPIRE', job, rttl)
  if not no_deps then c('EXPIRE', deps_key, rttl) end
  -- Only a job enqueued with dependencies has that set (otherwise a no-op, not sent).
  if has_deps == '1' then c('EXPIRE', p .. ':job::' .. id .. ':dependencies', rttl) end
  if not unstarted then
    c('HDEL', wk, 'current_job')
    c('DEL', p .. ':execution:' .. id .. ':' .. eid)
    c('ZREM', wip, member)
    c('ZREM', p .. ':executions:' .. id, eid)
    c('SREM', wk .. ':executions', member)
  end
  -- One `HSET` written out per case: a table and `unpack` cost more than the command.
  if count ~= '' then counts[j] = count end
  if total ~= '' then totals[j] = total end
  if count ~= '' and total ~= '' then
    c('HSET', wk, 'successful_job_count', count, 'total_working_time', total,
      'current_job_working_time', '0', 'state', 'idle', 'last_heartbeat', et)
  elseif count ~= '' then
    c('HSET', wk, 'successful_job_count', count, 'current_job_working_time', '0', 'state', 'idle',
      'last_heartbeat', et)
  elseif total ~= '' then
    c('HSET', wk, 'total_working_time', total, 'current_job_working_time', '0', 'state', 'idle',
      'last_heartbeat', et)
  else
    c('HSET', wk, 'current_job_working_time', '0', 'state', 'idle', 'last_heartbeat', et)
  end
  -- The start set the worker hash's TTL for the job; the end sets it back to the idle one. A
  -- job never started never changed it: the heartbeat keeps it (one `EXPIRE` per job less).
  if not unstarted then c('EXPIRE', wk, idle_ttl) end
end
-- Each job's entry: (kind, guard key, guard member, job id, release status, index of its
-- first field after those, or of `n_cmds` for 'R').
local function entry(i)
  local kind = A[i]
  if kind == 'U' then return kind, A[i + 1], A[i + 2], A[i + 2], 'finished', i + 3 end
  if kind == 'S' then return kind, A[i + 1], A[i + 2], A[i + 3], 'finished', i + 4 end
  return kind, A[i + 1], A[i + 2], A[i + 3], A[i + 4], i + 5
end
-- The index after the entry whose fields start at `f`.
local function after(kind, f)
  if kind ~= 'R' then return f + 14 end
  local j = f + 2
  for _ = 1, tonumber(A[f]) do j = j + 1 + tonumber(A[j]) end
  return j
end
-- Whether any job of the call has a dependents set, by one `EXISTS` for all before any job's
-- commands run (issue 17: without one, no job reads its own). No end creates such a set, so
-- none appears later in the call.
local function any_dependents()
  local sets, i = {}, 6
  while i <= n do
    local kind, _, _, id, release, f = entry(i)
    if release ~= '' then sets[#sets + 1] = p .. ':job:' .. id .. ':dependents' end
    i = after(kind, f)
  end
  for s = 1, #sets, 1000 do
    if call('EXISTS', unpack(sets, s, math.min(s + 999, #sets))) > 0 then return true end
  end
  return false
end
local has_dependents = any_dependents()
local i, j = 6, 0
while i <= n do
  j = j + 1
  local kind, wip, member, id, release, f = entry(i)
  local live
  if kind == 'U' then
    -- Taken, never started: the id still in the intermediate list is the guard (removed here,
    -- so a repeated end finds it gone).
    live = call('LREM', wip, '1', member) > 0
  else
    live = call('ZSCORE', wip, member)
  end
  local deps_key = p .. ':job:' .. id .. ':dependents'
  local deps = nil
  if release ~= '' and not has_dependents then
    deps = {}
  elseif release ~= '' then
    local read = live
    if not live then
      local st = call('HGET', p .. ':job:' .. id, 'status')
      read = st == 'finished' or st == 'failed' or st == 'stopped'
    end
    if read then deps = call('SMEMBERS', deps_key) end
  end
  -- job.cleanup's EXPIRE of a dependents set that does not exist is a no-op: not sent.
  local no_deps = deps ~= nil and #deps == 0
  errors = 0
  counts[j], totals[j] = '', ''
  if kind ~= 'R' then
    if live then success(f, wip, member, id, deps_key, no_deps, kind == 'U', j) end
    i = f + 14
  else
    local ncmds, w = tonumber(A[f]), A[f + 1]
    i = f + 2
    if live then
      flush()
      -- A success sent as commands increments its worker's count itself (`HINCRBY`); every
      -- end sent as commands adds its working time (`HINCRBYFLOAT`).
      if release == 'finished' then counted[w] = (counted[w] or 0) + 1 end
      touched[w] = true
    end
    for _ = 1, ncmds do
      local nargs = tonumber(A[i])
      if live and not (no_deps and A[i + 2] == deps_key and A[i + 1] == 'EXPIRE') then
        local r = rpcall(unpack(A, i + 1, i + nargs))
        if type(r) == 'table' and r.err then errors = errors + 1 end
      end
      i = i + 1 + nargs
    end
  end
  applied[j] = live and '1' or '0'
  errs[j] = errors
  if deps and #deps > 0 then
    local at = tostring(j)
    for _, d in ipairs(release_dependents(p, id, release, deps, now, ts)) do
      released[#released + 1] = at
      released[#released + 1] = d
    end
  end
end
flush()
for k = 1, j do
  if errs[k] == 0 then errs[k] = '0' else errs[k] = tostring(errs[k]) end
end
local out = {table.concat(applied), table.concat(counts, ','), table.concat(totals, ','),
  table.concat(errs, ',')}
for _, v in ipairs(released) do out[#out + 1] = v end
return out
