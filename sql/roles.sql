-- Least-privilege roles for pgsse. Load after pgsse.sql (and demo.sql).
--   pgsse_web        pgsse-stream and pgsse-app: reads the log and the
--                    registry, enqueues jobs; cannot publish, cannot
--                    write any table.
--   pgsse_publisher  runners and job scripts: publishes, claims and
--                    finishes jobs, prunes; cannot touch tables directly.
-- Only the schema owner changes tables and the registry.
set client_min_messages = warning;

do $$
begin
	if not exists (select from pg_roles where rolname = 'pgsse_web') then
		create role pgsse_web login;
	end if;
	if not exists (select from pg_roles where rolname = 'pgsse_publisher') then
		create role pgsse_publisher login;
	end if;
end $$;

revoke all on schema pgsse from public;
revoke all on all tables in schema pgsse from public;
revoke all on all sequences in schema pgsse from public;
revoke execute on all functions in schema pgsse from public;

grant usage on schema pgsse to pgsse_web, pgsse_publisher;

grant select on pgsse.log, pgsse.channels, pgsse.events, pgsse.event_fields,
	pgsse.channel_state, pgsse.jobs, pgsse.settings to pgsse_web;
grant select on sequence pgsse.log_id_seq to pgsse_web;
grant execute on function pgsse.enqueue(text, jsonb, text),
	pgsse.setting(text) to pgsse_web;

grant select on pgsse.events, pgsse.jobs to pgsse_publisher;
grant execute on function pgsse.publish(text, text, jsonb),
	pgsse.enqueue(text, jsonb, text), pgsse.claim(text),
	pgsse.finish(bigint, text, int, text), pgsse.recover(), pgsse.prune(),
	pgsse.setting(text), pgsse.check_payload(text, text, jsonb),
	pgsse.type_ok(jsonb, text) to pgsse_publisher;

do $$
begin
	if exists (select from pg_namespace where nspname = 'pgsse_demo') then
		revoke all on all tables in schema pgsse_demo from public;
		grant usage on schema pgsse_demo to pgsse_web;
		grant select on pgsse_demo.demos to pgsse_web;
	end if;
end $$;
