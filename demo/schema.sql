-- The demo app's data. Load after pgsse's sql/pgsse.sql and sql/roles.sql
-- (psql -f demo/schema.sql); loading it again changes nothing.
--
-- Demo state is a projection of the event log: a trigger applies
-- demos.installed and demos.uninstalled events, so job scripts change
-- state only by publishing events.
set client_min_messages = warning;

create schema if not exists pgsse_demo;

create table if not exists pgsse_demo.demos (
	id	text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	name	text not null,
	description text not null,
	installed boolean not null default false,
	updated_at timestamptz not null default now()
);

insert into pgsse_demo.demos (id, name, description) values
	('todo', 'Todo list', 'A live todo list: every tab sees every change.'),
	('chat', 'Chat room', 'Messages fan out to every reader within milliseconds.'),
	('dashboard', 'Metrics dashboard', 'Counters pushed from a job every few seconds.'),
	('kanban', 'Kanban board', 'Cards move across columns for everyone at once.')
on conflict (id) do nothing;

create or replace function pgsse_demo.apply_event() returns trigger
language plpgsql as $$
begin
	update pgsse_demo.demos set installed = (new.event = 'installed'),
		updated_at = now()
	where id = new.payload ->> 'demo_id';
	return new;
end $$;

drop trigger if exists demos_apply on pgsse.log;
create trigger demos_apply after insert on pgsse.log for each row
	when (new.channel = 'demos' and new.event in ('installed', 'uninstalled'))
	execute function pgsse_demo.apply_event();

-- One job as the demo shows it (templates/job-row.html): its target
-- (args.name or args.demo_id) and step cut to PGSSE_FRAGMENT_FIELD_MAX
-- (4096) characters, its last progress; with p_existed, the htmx
-- headers that re-target the job's container (app.json's actions).
-- It runs as the caller, so row-level security on pgsse.log applies,
-- and it is volatile, so it sees a job enqueued earlier in the same
-- statement.
create or replace function pgsse_demo.job_row(p_id bigint,
	p_existed boolean default false)
returns table (id bigint, kind text, state text, target text, percent text,
	step text, live boolean, again text, swap text)
language sql volatile as $$
	select j.id, j.kind, j.state,
		left(coalesce(j.args ->> 'name', j.args ->> 'demo_id', ''), 4096),
		case when j.state = 'succeeded' then '100'
			else coalesce(p.payload ->> 'percent', '0') end,
		left(coalesce(p.payload ->> 'step', j.state), 4096),
		j.state in ('queued', 'running'),
		case when p_existed then '#job-' || j.id end,
		case when p_existed then 'outerHTML' end
	from pgsse.jobs j left join lateral (select payload from pgsse.log
		where channel = 'job' and payload ->> 'job_id' = j.id::text
		and event = 'progress' order by id desc limit 1) p on true
	where j.id = p_id
$$;

-- Cancels job p_id for the web user (pgsse.cancel: PS403, which
-- pgsse-app answers 403, unless the user owns it) and returns its row as
-- job_row does, read after the cancel.
drop function if exists pgsse_demo.cancel_row(bigint);
create function pgsse_demo.cancel_row(p_id bigint)
returns table (id bigint, kind text, state text, target text, percent text,
	step text, live boolean, again text, swap text)
language plpgsql volatile as $$
begin
	perform pgsse.cancel(p_id);
	return query select * from pgsse_demo.job_row(p_id);
end $$;

-- The jobs the demo's actions start from the web (pgsse.web_enqueue).
insert into pgsse.job_kinds (kind, description, args) values
	('demo_install', 'installs a demo',
		'{"demo_id": "string", "name": "string"}'),
	('demo_uninstall', 'uninstalls a demo',
		'{"demo_id": "string", "name": "string"}'),
	('validation', 'checks the system', '{}')
on conflict (kind) do nothing;

-- What the demo's fragments read, granted to the web role when it exists
-- (sql/roles.sql makes it).
revoke all on all tables in schema pgsse_demo from public;
do $$
begin
	if exists (select from pg_roles where rolname = 'pgsse_web') then
		grant usage on schema pgsse_demo to pgsse_web;
		grant select on pgsse_demo.demos to pgsse_web;
	end if;
end $$;
