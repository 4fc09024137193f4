-- wrk script: POST /v1/events, each request a distinct event id (the idempotency key).
local counter = 0
local prefix = tostring(math.random(1, 1000000000))

function init(args)
  prefix = args[1] .. "-" .. tostring(math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"id":"wrk-%s-%d","type":"treaty.action.recorded","source":"/bench/wrk",'
    .. '"data":{"treaty_id":"XXVI-5","participant":"NOR","action":"signature","date":"2001-01-01"}}',
    prefix, counter)
  return wrk.format("POST", "/v1/events", wrk.headers, body)
end
