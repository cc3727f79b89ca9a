-- Moves an id left in an intermediate list back to the front of its queue, only if it is still
-- there. KEYS: intermediate, queue, first_seen. ARGV: id. Returns 1 when moved, else 0.
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
