-- The latest validation run (its events after the last time a
-- validation job started running): at most PGSSE_FRAGMENT_ROWS_MAX (200)
-- events, text cut to PGSSE_FRAGMENT_FIELD_MAX (4096).
with start as (
	select coalesce(max(id), 0) as id from pgsse.log
	where channel = 'operations' and payload ->> 'kind' = 'validation'
		and payload ->> 'state' = 'running'
), last as (
	select log.id, event, payload from pgsse.log, start
	where channel = 'validation' and log.id > start.id
	order by log.id desc limit 200
)
select event,
	event = 'check_result' as is_check,
	event = 'validation_complete' as is_summary,
	event not in ('check_result', 'validation_complete') as is_error,
	coalesce(payload ->> 'ok', '') = 'true' as ok,
	left(coalesce(payload ->> 'check', ''), 4096) as check,
	left(coalesce(payload ->> 'detail', payload ->> 'error', ''), 4096)
		as detail,
	coalesce(payload ->> 'passed', '') as passed,
	coalesce(payload ->> 'failed', '') as failed
from last order by id
