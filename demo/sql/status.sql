-- The status card: text cut to PGSSE_FRAGMENT_FIELD_MAX (4096).
select to_char(now(), 'YYYY-MM-DD HH24:MI:SS') as time,
	current_setting('server_version') as version,
	(select coalesce(max(id), 0) from pgsse.log) as last_id,
	coalesce((select left(payload ->> 'status', 4096) from pgsse.log
		where channel = 'status' order by id desc limit 1),
		'unknown') as status,
	(select count(*) from pgsse.jobs
		where state in ('queued', 'running')) as active
