-- Takes up to n job ids, each moved into its queue's intermediate list (the guarantee of RQ's
-- single-queue BLMOVE), unless rq:suspended is set.
-- KEYS: suspended, queue_1..queue_k, intermediate_1..intermediate_k.
-- ARGV: n, prefix[, order...]. Without an order: strict priority (queue_1 first). With one
-- (RQ's dequeue strategies, see `Take::invocation_in`): 'r', o: round robin: each id comes from
-- the first non-empty queue scanning from queue o+1 on (cyclically), and the next scan starts
-- after the queue it came from; 's', then n lists of k queue indices (0-based): the i-th id comes
-- from the first non-empty queue in the i-th list.
-- Returns {'S'} when suspended, {} when nothing was taken, {queue_index, job_id, hash} for one
-- job (the hash's error text when it is not a hash), {queue_index, job_id, ...} for several.
if redis.call('EXISTS', KEYS[1]) == 1 then return {'S'} end
local n = tonumber(ARGV[1])
local job = ARGV[2] .. ':job:'
local k = (#KEYS - 1) / 2
local out = {}
local got = 0
local mode = ARGV[3]
if mode == 'r' or mode == 's' then
  -- One id per scan, as RQ's worker dequeues one job and then reorders its queues.
  local offset = tonumber(ARGV[4]) or 0
  for t = 1, n do
    local taken = false
    for j = 0, k - 1 do
      local i
      if mode == 'r' then
        i = (offset + j) % k + 1
      else
        i = tonumber(ARGV[3 + (t - 1) * k + j + 1]) + 1
      end
      local id = redis.call('LMOVE', KEYS[1 + i], KEYS[1 + k + i], 'LEFT', 'RIGHT')
      if id then
        out[#out + 1] = tostring(i - 1)
        out[#out + 1] = id
        got = got + 1
        offset = i % k
        taken = true
        break
      end
    end
    if not taken then break end
  end
else
  for i = 1, k do
    local want = n - got
    if want <= 0 then break end
    local ids
    if want == 1 then
      local id = redis.call('LMOVE', KEYS[1 + i], KEYS[1 + k + i], 'LEFT', 'RIGHT')
      ids = id and {id} or {}
    else
      -- A batch moves as one LRANGE, LTRIM and RPUSH: the same lists as `want` LMOVEs leave, in
      -- the same order, for three commands instead of one per id (issue 17).
      ids = redis.call('LRANGE', KEYS[1 + i], 0, want - 1)
      if #ids > 0 then
        redis.call('LTRIM', KEYS[1 + i], #ids, -1)
        for s = 1, #ids, 1000 do
          redis.call('RPUSH', KEYS[1 + k + i], unpack(ids, s, math.min(s + 999, #ids)))
        end
      end
    end
    -- One string per queue: Redis formats a Lua number for each conversion.
    local qi = tostring(i - 1)
    for _, id in ipairs(ids) do
      out[#out + 1] = qi
      out[#out + 1] = id
      got = got + 1
    end
  end
end
if got == 1 then
  -- pcall: a key of the wrong type must fail that id alone (issue 9).
  local h = redis.pcall('HGETALL', job .. out[2])
  if h.err then h = h.err end
  out[3] = h
end
return out
