-- The demo application's data. Demo state is a projection of the event
-- log: a trigger applies demos.installed and demos.uninstalled events, so
-- job scripts change state only by publishing events.
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
do $$
begin
	if exists (select from pg_roles where rolname = 'pgsse_web') then
		grant usage on schema pgsse_demo to pgsse_web;
		grant select on pgsse_demo.demos to pgsse_web;
	end if;
end $$;
