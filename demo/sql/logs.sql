-- The last $1 log lines, oldest first, text cut to
-- PGSSE_FRAGMENT_FIELD_MAX (4096).
select id, left(payload ->> 'source', 4096) as source,
	left(payload ->> 'line', 4096) as line
from (select id, payload from pgsse.log where channel = 'logs'
	order by id desc limit $1::int) t
order by id
