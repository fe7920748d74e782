-- Least-privilege roles for pgsse. Load after pgsse.sql, before an app's
-- own SQL (which grants the web role what the app reads).
--   pgsse_web        pgsse-app: reads the registry, the jobs and the log
--                    (private channels only for their readers: row-level
--                    security on pgsse.log by pgsse.user), enqueues the
--                    job kinds in pgsse.job_kinds (pgsse.web_enqueue),
--                    cancels its user's jobs (pgsse.cancel);
--                    cannot publish, cannot write any table.
--   pgsse_stream     pgsse-stream: reads the registry and every row of
--                    the log, and checks each client's channels itself;
--                    cannot enqueue, publish or write anything.
--   pgsse_publisher  runners and job scripts: publishes (an event or a
--                    batch), claims and finishes jobs, prunes; cannot
--                    touch tables directly.
-- Only the schema owner changes tables and the registry.
set client_min_messages = warning;

do $$
declare
	r text;
begin
	foreach r in array array['pgsse_web', 'pgsse_stream', 'pgsse_publisher'] loop
		if not exists (select from pg_roles where rolname = r) then
			execute format('create role %I login', r);
		end if;
	end loop;
end $$;

revoke all on schema pgsse from public;
revoke all on all tables in schema pgsse from public;
revoke all on all sequences in schema pgsse from public;
revoke execute on all functions in schema pgsse from public;

grant usage on schema pgsse to pgsse_web, pgsse_stream, pgsse_publisher;
grant execute on function pgsse.schema_version() to pgsse_web, pgsse_stream,
	pgsse_publisher;

grant select on pgsse.log, pgsse.channels, pgsse.events, pgsse.event_fields,
	pgsse.channel_state, pgsse.jobs, pgsse.settings to pgsse_web;
grant select on sequence pgsse.log_id_seq to pgsse_web;
revoke execute on function pgsse.enqueue(text, jsonb, text) from pgsse_web;
grant select on pgsse.job_kinds to pgsse_web;
grant execute on function pgsse.web_enqueue(text, jsonb, text),
	pgsse.setting(text), pgsse.cancel(bigint) to pgsse_web;
-- What the row-level security policies call, as the role that reads.
grant execute on function pgsse.user_readers(), pgsse.user_reader(text),
	pgsse.user_may_read(text, text) to pgsse_web, pgsse_stream;

grant select on pgsse.log, pgsse.channels, pgsse.events, pgsse.event_fields,
	pgsse.channel_state, pgsse.jobs to pgsse_stream;
grant select on sequence pgsse.log_id_seq to pgsse_stream;
-- The log's epoch (pgsse.log_epoch begins one after a failover) and the
-- tails that tell which cursors of an older epoch resume exactly.
grant execute on function pgsse.log_epoch() to pgsse_stream;
grant select on pgsse.epochs, pgsse.epoch_tails to pgsse_stream;
drop policy if exists log_stream on pgsse.log;
create policy log_stream on pgsse.log for select to pgsse_stream
	using (true);
-- It checks each per-job stream's owner itself, as the runner needs
-- every job.
drop policy if exists jobs_all on pgsse.jobs;
create policy jobs_all on pgsse.jobs for select
	to pgsse_stream, pgsse_publisher using (true);

grant select on pgsse.events, pgsse.jobs to pgsse_publisher;
grant execute on function pgsse.publish(text, text, jsonb),
	pgsse.publish(text, text, jsonb, text),
	pgsse.publish_batch(text, text, jsonb[], text),
	pgsse.enqueue(text, jsonb, text), pgsse.claim(text),
	pgsse.finish(bigint, text, int, text), pgsse.recover(), pgsse.prune(),
	pgsse.log_maintain(), pgsse.cancel(bigint),
	pgsse.setting(text), pgsse.check_payload(text, text, jsonb),
	pgsse.type_ok(jsonb, text) to pgsse_publisher;
