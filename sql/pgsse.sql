-- pgsse schema: the event registry, the append-only event log, publishing,
-- retention and the job queue, at schema version 5 (the whole of it, for
-- a new database: pgsse-schema(1) installs it, and upgrades an older
-- database with the steps in sql/upgrade/ instead). Loading it twice is
-- harmless; loading it over another version is refused.
-- Contracts: pgsse.publish(channel, event, payload jsonb) returns bigint,
--            pgsse.publish(channel, event, payload jsonb, user text)
--              returns bigint (to one user),
--            pgsse.publish_batch(channel, event, payloads jsonb[],
--              user text default null) returns bigint[],
--            pgsse.enqueue(kind, args jsonb) returns bigint.

set client_min_messages = warning;

-- The database's schema version: pgsse.schema_version(), or 1 for the
-- first release, which had none but had pgsse.log. Over another version
-- this file is refused, and the session made read-only first, so that
-- a psql without ON_ERROR_STOP, which goes on after an error, changes
-- nothing either. A new version bumps the 5s here and in
-- pgsse.schema_version() below, and adds its step to sql/upgrade/
-- (docs/DEPLOY.md).
do $$
declare
	v int;
begin
	if to_regprocedure('pgsse.schema_version()') is not null then
		execute 'select pgsse.schema_version()' into v;
	elsif to_regclass('pgsse.log') is not null then
		v := 1;
	end if;
	if v <> 5 then
		perform set_config('default_transaction_read_only', 'on', false);
		perform set_config('pgsse.refused', v::text, false);
	end if;
end $$;
do $$
declare
	v text := current_setting('pgsse.refused', true);
begin
	if v <> '' then
		raise exception 'pgsse: the database has pgsse schema version %, this file is version 5', v
			using errcode = '55000', hint = case when v::int < 5
			then 'Upgrade it with pgsse-schema upgrade.'
			else 'Load the sql/pgsse.sql of the pgsse that made it.' end;
	end if;
end $$;

create schema if not exists pgsse;

-- The version of this schema. Each step in sql/upgrade/ sets it.
create or replace function pgsse.schema_version() returns int
language sql stable as $$ select 5 $$;

-- Named settings; change them with UPDATE.
create table if not exists pgsse.settings (
	name	text primary key,
	value	text not null,
	description text not null
);
insert into pgsse.settings (name, value, description) values
	('max_payload', '1048576', 'largest payload in bytes that publish() accepts'),
	('retention_interval', '24 hours', 'events older than this are pruned'),
	('retention_count', '100000', 'events kept per channel at most'),
	('job_timeout', '600', 'seconds a job may run before the runner kills it'),
	('job_max_attempts', '3', 'attempts before a job that lost its runner fails'),
	('job_arg_max', '256', 'bytes of one string argument of a job enqueued from the web'),
	('user_readers', '', 'users, separated by commas, who also read every event published to a user and every user''s jobs (administrators)'),
	('log_partition_rows', '1000000', 'event ids per partition of pgsse.log, 1 to 1000000000 (PGSSE_LOG_PARTITION_ROWS); partitions made after a change take it'),
	('publish_batch_max', '1000', 'events that one publish_batch() call takes at most (PGSSE_PUBLISH_BATCH_MAX)')
on conflict (name) do nothing;

create or replace function pgsse.setting(p_name text) returns text
language sql stable as $$
	select value from pgsse.settings where name = p_name
$$;

-- The users named in the setting user_readers, who read every user's
-- events and jobs. Security definer: the roles that check it need not
-- read pgsse.settings.
create or replace function pgsse.user_readers() returns text[]
language sql stable security definer set search_path = pg_catalog, pgsse as $$
	select coalesce(array_agg(btrim(u) order by btrim(u)), '{}')
	from unnest(string_to_array(pgsse.setting('user_readers'), ',')) u
	where btrim(u) <> ''
$$;

-- True if p_user is one of the user_readers.
create or replace function pgsse.user_reader(p_user text) returns boolean
language sql stable as $$
	select coalesce(p_user = any (pgsse.user_readers()), false)
$$;

-- True if the caller acting for web user p_user (pgsse.user; NULL or
-- '' for nobody) may read what was published to p_recipient (NULL: to
-- everyone), or a job p_recipient owns.
create or replace function pgsse.user_may_read(p_recipient text,
	p_user text) returns boolean
language sql stable as $$
	select coalesce(p_recipient is null or p_recipient = p_user
		or pgsse.user_reader(p_user), false)
$$;

-- Stream processes hold user_readers with the registry: a change of it
-- makes them reload (NOTIFY "pgsse.registry", as a registry load does).
create or replace function pgsse.settings_changed() returns trigger
language plpgsql as $$
begin
	perform pg_notify('pgsse.registry', '');
	return null;
end $$;
drop trigger if exists settings_changed on pgsse.settings;
create trigger settings_changed after insert or update or delete
	on pgsse.settings for each statement
	execute function pgsse.settings_changed();

-- The registry: one row per channel, event and documented payload field.
create table if not exists pgsse.channels (
	name	text primary key
		check (name ~ '^[a-z][a-z0-9_]{0,62}$' and name <> 'pgsse'),
	description text not null,
	private	boolean not null default false,
	readers	text[] not null default '{}',
	core	boolean not null default false,	-- pgsse's own (load_core)
	personal boolean not null default false	-- every event to one user
);
alter table pgsse.channels add column if not exists
	core boolean not null default false;
alter table pgsse.channels add column if not exists
	personal boolean not null default false;
create table if not exists pgsse.events (
	channel	text not null references pgsse.channels (name) on delete cascade,
	name	text not null check (name ~ '^[a-z][a-z0-9_]{0,63}$'),
	description text not null,
	primary key (channel, name)
);
create table if not exists pgsse.event_fields (
	channel	text not null,
	event	text not null,
	field	text not null check (field ~ '^[a-z][a-z0-9_]{0,63}$'),
	type	text not null check (type in
		('string', 'number', 'integer', 'boolean', 'object', 'array')),
	ord	int not null,
	primary key (channel, event, field),
	foreign key (channel, event) references pgsse.events (channel, name)
		on delete cascade
);

-- The append-only event log. Ids come from one sequence, and publish()
-- serialises publishers per channel so ids commit in order per channel.
-- It is partitioned by id range, log_partition_rows ids a partition
-- (pgsse.log_<first id>; pgsse.log_v3 is the whole log of a database
-- upgraded from version 3), so that retention drops whole partitions
-- instead of deleting rows (pgsse.prune). pgsse.log_maintain() makes
-- them ahead of the ids; an id that none covers, because publishing
-- outran it, goes to pgsse.log_default, so a publish never fails for
-- want of a partition.
create sequence if not exists pgsse.log_id_seq;
create table if not exists pgsse.log (
	id	bigint primary key,
	channel	text not null,
	event	text not null,
	payload	jsonb not null,
	created_at timestamptz not null default now(),
	recipient text		-- the one user it is for (REMOTE_USER), or NULL
) partition by range (id);
alter table pgsse.log add column if not exists recipient text;
create index if not exists log_channel_id on pgsse.log (channel, id);
create index if not exists log_job on pgsse.log ((payload ->> 'job_id'), id)
	where channel = 'job';
create table if not exists pgsse.log_default partition of pgsse.log default;

-- Per channel, the highest id that retention removed: a reader whose
-- cursor is below it has missed events and must reload its state.
create table if not exists pgsse.channel_state (
	channel	text primary key,
	pruned_through bigint not null default 0
);

-- Log epochs. An event id is unique only within one history of the log:
-- after a failover to a standby that lacked the last commits (asynchronous
-- replication), a point-in-time restore, or a crash that lost unflushed
-- commits (synchronous_commit = off), the log has lost events, and the
-- sequence, which logs 32 values ahead, may hand their ids out again.
-- Each such history starts a new epoch: pgsse.epochs numbers them
-- 1, 2, ..., and pgsse.epoch_tails keeps, per channel, the highest id
-- (or pruned id) the log had when the epoch began: every event of the
-- epochs before it up to that id is in this history, and none above it.
-- A stream's id carries its epoch (docs/SSE_EVENTS.md), so a cursor
-- (epoch, id) resumes exactly if id is at most its channel's tail at the
-- start of the next epoch, and is told stream_reset otherwise.
create table if not exists pgsse.epochs (
	epoch	int primary key,
	started_at timestamptz not null default now()
);
create table if not exists pgsse.epoch_tails (
	epoch	int not null references pgsse.epochs on delete cascade,
	channel	text not null,
	tail	bigint not null,
	primary key (epoch, channel)
);
-- The server's mark: which epoch this server began, and when the server
-- started. Unlogged, so no standby, restored backup or crash recovery
-- has it: each of them begins a new epoch. The start time covers a dump
-- restored elsewhere. One row.
create unlogged table if not exists pgsse.epoch_mark (
	epoch	int not null,
	started	timestamptz not null
);

-- Returns the log's epoch, first beginning a new one if this server has
-- no mark of its own (see above); publish() calls it before taking an
-- id, and the stream processes when they connect. On a standby it
-- returns the newest epoch replicated so far and begins nothing.
-- On a primary it also notes in the session, in the setting
-- pgsse.log_epoch_server (pgsse's own: set nothing there), that this
-- server's epoch has begun: the server's start time. publish() calls it
-- only while the note is missing or names another start, which saves
-- its query on every later publish of the session. The note cannot
-- outlive what it says: a new history means a new server (a promoted
-- standby, a restored backup, a crash, each of which ends every session
-- or, for a standby, sees its sessions note nothing while in
-- recovery), and a note set in a transaction that rolls back is undone
-- with it, as every setting is. (A mark deleted by hand begins a new
-- epoch at the next call of this function, not at a noted session's
-- publish: what that publishes is in this history all the same.)
create or replace function pgsse.log_epoch() returns int
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v int;
begin
	if pg_is_in_recovery() then
		return (select coalesce(max(epoch), 1) from pgsse.epochs);
	end if;
	select epoch into v from pgsse.epoch_mark
		where started = pg_postmaster_start_time();
	if not found then
		-- Held to commit: one new epoch, whoever comes first.
		perform pg_advisory_xact_lock(1886610280, 0);
		select epoch into v from pgsse.epoch_mark
			where started = pg_postmaster_start_time();
	end if;
	if not found then
		select coalesce(max(epoch), 0) + 1 into v from pgsse.epochs;
		insert into pgsse.epochs (epoch) values (v);
		insert into pgsse.epoch_tails (epoch, channel, tail)
		select v, c.ch, greatest(coalesce((select max(l.id) from pgsse.log l
			where l.channel = c.ch), 0), coalesce((select s.pruned_through
			from pgsse.channel_state s where s.channel = c.ch), 0))
		from (select name from pgsse.channels
			union select channel from pgsse.channel_state) c (ch);
		delete from pgsse.epoch_mark;
		insert into pgsse.epoch_mark (epoch, started)
			values (v, pg_postmaster_start_time());
	end if;
	perform set_config('pgsse.log_epoch_server',
		pg_postmaster_start_time()::text, false);
	return v;
end $$;
do $$ begin perform pgsse.log_epoch(); end $$;

-- Row-level security: a role other than the owner reads a private
-- channel's events only while pgsse.user (set per request by pgsse-app,
-- transaction-local) names one of its readers, and an event published
-- to one user only while pgsse.user is that user or one of the
-- user_readers, so no fragment can forget the check. sql/roles.sql
-- lets the stream program's role read every row: it checks readers
-- itself, per client.
alter table pgsse.log enable row level security;
drop policy if exists log_readers on pgsse.log;
create policy log_readers on pgsse.log for select using (channel in
	(select c.name from pgsse.channels c where not c.private
		or current_setting('pgsse.user', true) = any (c.readers))
	and pgsse.user_may_read(recipient, current_setting('pgsse.user', true)));

create or replace function pgsse.log_no_update() returns trigger
language plpgsql as $$
begin
	raise exception 'pgsse.log is append-only';
end $$;
drop trigger if exists log_no_update on pgsse.log;
create trigger log_no_update before update on pgsse.log
	for each row execute function pgsse.log_no_update();

-- The core registry: pgsse's own channels, which the runner and
-- pgsse.enqueue publish to. The schema installs them (pgsse.load_core,
-- below) and no registry document removes or changes them. Same shape
-- as sql/registry.json, which redeclares them word for word.
create or replace function pgsse.core_registry() returns jsonb
language sql immutable as $$ select $core$
{"channels": [
 {"name": "logs", "description": "Lines of output from jobs and services.",
  "events": [
   {"name": "log", "description": "One line of output",
    "fields": {"source": "string", "line": "string"}}]},
 {"name": "operations", "description": "The state of every job the runners execute.",
  "events": [
   {"name": "operation_status", "description": "A job changed state",
    "fields": {"job_id": "integer", "kind": "string", "state": "string"}}]},
 {"name": "job", "description": "Per-job progress, streamed by /api/jobs/<id>/stream filtered on job_id.",
  "events": [
   {"name": "progress", "description": "The job made progress. The seed sends {step} (and percent in its example) on a stream of its own; here one stream process serves every job, so job_id is required to route the event to its job's stream",
    "fields": {"job_id": "integer", "percent": "integer", "step": "string"}},
   {"name": "complete", "description": "The job ended; the per-job stream closes after it. The seed sends {}; job_id is required to route it, and state (succeeded, failed, cancelled) because a page must show how the job ended, which the seed could not tell",
    "fields": {"job_id": "integer", "state": "string"}}]}
]}
$core$::jsonb $$;

-- What a channel declares, for comparing two declarations of it: its
-- privacy, readers, and events with their fields; not its descriptions.
create or replace function pgsse.channel_shape(c jsonb) returns jsonb
language sql immutable as $$
	select jsonb_build_object(
		'private', coalesce((c ->> 'private')::boolean, false),
		'personal', coalesce((c ->> 'personal')::boolean, false),
		'readers', coalesce((select jsonb_agg(r order by r)
			from jsonb_array_elements_text(c -> 'readers') r), '[]'),
		'events', coalesce((select jsonb_object_agg(e ->> 'name',
			coalesce(e -> 'fields', '{}'))
			from jsonb_array_elements(c -> 'events') e), '{}'))
$$;

-- The descriptions of a channel and of its events, as one value.
create or replace function pgsse.channel_words(c jsonb) returns jsonb
language sql immutable as $$
	select jsonb_build_object('description', c -> 'description', 'events',
		coalesce((select jsonb_object_agg(e ->> 'name', e -> 'description')
			from jsonb_array_elements(c -> 'events') e), '{}'))
$$;

-- Writes one channel of a registry document and its events, marked core
-- or not. Returns how many events it has.
create or replace function pgsse.put_channel(c jsonb, p_core boolean)
returns int
language plpgsql as $$
declare
	e jsonb; f record; n int := 0; i int;
begin
	insert into pgsse.channels (name, description, private, readers, core,
		personal)
	values (c ->> 'name', c ->> 'description',
		coalesce((c ->> 'private')::boolean, false),
		coalesce(array(select jsonb_array_elements_text(c -> 'readers')), '{}'),
		p_core, coalesce((c ->> 'personal')::boolean, false))
	on conflict (name) do update set description = excluded.description,
		private = excluded.private, readers = excluded.readers,
		core = excluded.core, personal = excluded.personal;
	delete from pgsse.events where channel = c ->> 'name';
	for e in select * from jsonb_array_elements(c -> 'events') loop
		insert into pgsse.events (channel, name, description)
		values (c ->> 'name', e ->> 'name', e ->> 'description');
		i := 0;
		for f in select * from jsonb_each_text(coalesce(e -> 'fields', '{}')) loop
			i := i + 1;
			insert into pgsse.event_fields (channel, event, field, type, ord)
			values (c ->> 'name', e ->> 'name', f.key, f.value, i);
		end loop;
		n := n + 1;
	end loop;
	return n;
end $$;

-- Installs (or, after an upgrade, updates) the core registry, and tells
-- every stream process to reload the registry at commit.
create or replace function pgsse.load_core() returns int
language plpgsql as $$
declare
	c jsonb; n int := 0;
begin
	for c in select * from jsonb_array_elements(pgsse.core_registry() -> 'channels') loop
		n := n + pgsse.put_channel(c, true);
	end loop;
	perform pg_notify('pgsse.registry', '');
	return n;
end $$;

-- Loads an app's registry document (the shape of sql/registry.json) in
-- one transaction, merged over the core registry: the app channels the
-- document lacks are removed, its channels are added or replaced, and
-- the core channels stay whatever it says. A document may redeclare a
-- core channel, as sql/registry.json does: with the same events, fields,
-- privacy and readers it is accepted, with other descriptions too but
-- with a NOTICE (the core's descriptions stay); any other difference is
-- refused (SQLSTATE 22023) and nothing is loaded. At commit, NOTIFY
-- "pgsse.registry" makes every stream process reload the registry.
-- Returns how many events the document declares. Names are checked by
-- the tables' CHECK constraints.
create or replace function pgsse.load_registry(doc jsonb) returns int
language plpgsql as $$
declare
	c jsonb; v_core jsonb; n int := 0; v_dup text;
begin
	if jsonb_typeof(doc -> 'channels') is distinct from 'array' then
		raise exception 'registry: "channels" must be an array';
	end if;
	select x ->> 'name' into v_dup from jsonb_array_elements(doc -> 'channels') x
		where jsonb_typeof(x) = 'object'
		group by x ->> 'name' having count(*) > 1 limit 1;
	if v_dup is not null then
		raise exception 'registry: channel "%" is declared twice', v_dup
			using errcode = '22023';
	end if;
	for c in select * from jsonb_array_elements(doc -> 'channels') loop
		if jsonb_typeof(c) is distinct from 'object' or c ->> 'name' is null
			or c ->> 'description' is null then
			raise exception 'registry: channel needs name and description: %', c;
		end if;
		if jsonb_typeof(c -> 'events') is distinct from 'array' then
			raise exception 'registry: channel "%" has no events array', c ->> 'name';
		end if;
		select x into v_core from jsonb_array_elements(pgsse.core_registry() -> 'channels') x
			where x ->> 'name' = c ->> 'name';
		if v_core is null then
			n := n + pgsse.put_channel(c, false);
			continue;
		end if;
		if pgsse.channel_shape(c) <> pgsse.channel_shape(v_core) then
			raise exception 'registry: core channel "%" is pgsse''s own and cannot be changed',
				c ->> 'name' using errcode = '22023',
				detail = format('core: %s; document: %s',
					pgsse.channel_shape(v_core), pgsse.channel_shape(c)),
				hint = 'Leave it out of the document, or declare it exactly as sql/registry.json does.';
		end if;
		if pgsse.channel_words(c) <> pgsse.channel_words(v_core) then
			raise notice 'registry: core channel "%" keeps its core descriptions',
				c ->> 'name';
		end if;
		n := n + jsonb_array_length(c -> 'events');
	end loop;
	delete from pgsse.channels where not pgsse.channels.core and name not in
		(select x ->> 'name' from jsonb_array_elements(doc -> 'channels') x);
	perform pg_notify('pgsse.registry', '');
	return n;
end $$;

do $$ begin perform pgsse.load_core(); end $$;

-- True if JSON value v has registry type t ('integer': a whole number).
-- Plain SQL, so the planner inlines it into the queries that use it.
create or replace function pgsse.type_ok(v jsonb, t text) returns boolean
language sql immutable as $$
	select coalesce(jsonb_typeof(v) = t or (t = 'integer'
		and jsonb_typeof(v) = 'number' and v::numeric = trunc(v::numeric)),
		false)
$$;

-- Raises unless payload carries every documented field with its type.
create or replace function pgsse.check_payload(p_channel text, p_event text,
	p_payload jsonb) returns void
language plpgsql stable as $$
declare
	f record;
begin
	if jsonb_typeof(p_payload) is distinct from 'object' then
		raise exception 'pgsse: payload of %.% must be a JSON object',
			p_channel, p_event using errcode = '22023';
	end if;
	for f in select field, type from pgsse.event_fields
		where channel = p_channel and event = p_event order by ord loop
		if p_payload -> f.field is null then
			raise exception 'pgsse: payload of %.% lacks field "%" (%)',
				p_channel, p_event, f.field, f.type using errcode = '22023';
		end if;
		if not pgsse.type_ok(p_payload -> f.field, f.type) then
			raise exception 'pgsse: field "%" of %.% must be %, not %',
				f.field, p_channel, p_event, f.type,
				jsonb_typeof(p_payload -> f.field) using errcode = '22023';
		end if;
	end loop;
end $$;

-- Raises the error that explains why an event is invalid: an unknown
-- channel or event (listing the valid names), a missing or mistyped
-- field, or a payload over max_payload.
create or replace function pgsse.explain_invalid(p_channel text,
	p_event text, p_payload jsonb) returns void
language plpgsql stable set search_path = pg_catalog, pgsse as $$
begin
	if not exists (select 1 from pgsse.channels where name = p_channel) then
		raise exception 'pgsse: unknown channel "%"; valid channels: %',
			p_channel, (select string_agg(name, ', ' order by name)
				from pgsse.channels) using errcode = '22023';
	end if;
	if not exists (select 1 from pgsse.events
		where channel = p_channel and name = p_event) then
		raise exception 'pgsse: unknown event "%" on channel "%"; valid events: %',
			p_event, p_channel, (select string_agg(name, ', ' order by name)
				from pgsse.events where channel = p_channel)
			using errcode = '22023';
	end if;
	perform pgsse.check_payload(p_channel, p_event, p_payload);
	if octet_length(p_payload::text) > pgsse.setting('max_payload')::int then
		raise exception 'pgsse: payload of % bytes is over max_payload (% bytes)',
			octet_length(p_payload::text), pgsse.setting('max_payload')
			using errcode = '54000';
	end if;
	raise exception 'pgsse: invalid event %.%', p_channel, p_event
		using errcode = '22023';
end $$;

-- Raises the error that explains why user p_user may not be the
-- recipient of an event on channel p_channel (personal or not): a
-- personal channel takes only events to one user, and a user name is 1
-- to 255 bytes (PGSSE_USER_MAX) with no control character. Returns
-- quietly if it may.
create or replace function pgsse.explain_recipient(p_channel text,
	p_personal boolean, p_user text) returns void
language plpgsql stable as $$
begin
	if p_user is null and p_personal then
		raise exception 'pgsse: channel "%" is personal: publish each event to one user',
			p_channel using errcode = '22023',
			hint = 'Call pgsse.publish(channel, event, payload, user), or pgsse-publish -u USER.';
	end if;
	if p_user is not null and (octet_length(p_user) not between 1 and 255
		or p_user ~ '[[:cntrl:]]') then
		raise exception 'pgsse: a user name is 1 to 255 bytes with no control character'
			using errcode = '22023';
	end if;
end $$;

-- Publishes one event to user p_user (NULL: to everyone who reads the
-- channel): validates it against the registry, appends it to the log
-- and rings the doorbell (NOTIFY pgsse, 'channel:id') in the caller's
-- transaction. Returns the event's id. An event to a user reaches only
-- that user's streams (REMOTE_USER) and those of the user_readers; a
-- personal channel takes only such events (22023 without a user). A
-- user name is 1 to 255 bytes (PGSSE_USER_MAX) with no control
-- character. A valid event costs one validation query; only an invalid
-- one pays for the detailed error, and only a session's first publish
-- on a server calls pgsse.log_epoch() (its note).
create or replace function pgsse.publish(p_channel text, p_event text,
	p_payload jsonb, p_user text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v_id bigint;
	v_personal boolean;
begin
	select c.personal into v_personal from pgsse.events e
		join pgsse.channels c on c.name = e.channel
	where e.channel = p_channel and e.name = p_event
		and jsonb_typeof(p_payload) = 'object'
		and octet_length(p_payload::text) <= (select value::int
			from pgsse.settings where name = 'max_payload')
		and not exists (select from pgsse.event_fields f
			where f.channel = p_channel and f.event = p_event
			and not pgsse.type_ok(p_payload -> f.field, f.type));
	if not found then
		perform pgsse.explain_invalid(p_channel, p_event, p_payload);
	end if;
	if (p_user is null and v_personal) or p_user is not null then
		perform pgsse.explain_recipient(p_channel, v_personal, p_user);
	end if;
	-- A new history (pgsse.log_epoch) begins before it hands out an id.
	if current_setting('pgsse.log_epoch_server', true) is distinct from
		pg_postmaster_start_time()::text then
		perform pgsse.log_epoch();
	end if;
	-- Held to commit: the next publisher on this channel gets a larger id
	-- and commits after us, so readers see ids in order per channel.
	perform pg_advisory_xact_lock(1886610277, hashtext(p_channel));
	v_id := nextval('pgsse.log_id_seq');
	insert into pgsse.log (id, channel, event, payload, recipient)
		values (v_id, p_channel, p_event, p_payload, p_user);
	perform pg_notify('pgsse', p_channel || ':' || v_id);
	return v_id;
end $$;

-- Publishes one event to everyone who reads the channel: the
-- four-argument form with no user. Returns the event's id. PL/pgSQL,
-- not SQL: a SQL function that cannot be inlined (security definer)
-- is parsed and planned again at every call.
create or replace function pgsse.publish(p_channel text, p_event text,
	p_payload jsonb default '{}') returns bigint
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
begin
	return pgsse.publish(p_channel, p_event, p_payload, null::text);
end $$;

-- Publishes the events p_payloads, in their order, each an event
-- p_event on channel p_channel to user p_user (NULL: to everyone who
-- reads the channel), in one statement. Each is checked as publish()
-- checks one; if any is invalid, none is published and the error
-- (publish()'s, SQLSTATE too) names the first invalid one by its place
-- in the array, from 1. More events than the setting publish_batch_max
-- (PGSSE_PUBLISH_BATCH_MAX, 1000, also without its row) raise 54000
-- and publish none; an empty (or NULL) array publishes none. Returns
-- the events' ids, in the
-- array's order: increasing, and consecutive unless a publisher on
-- another channel took ids meanwhile. The events share one doorbell
-- (NOTIFY pgsse, 'channel:last id'), and the channel's lock is held to
-- commit as publish() holds it.
create or replace function pgsse.publish_batch(p_channel text,
	p_event text, p_payloads jsonb[], p_user text default null)
returns bigint[]
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v_n int := coalesce(cardinality(p_payloads), 0);
	v_max int := coalesce(pgsse.setting('publish_batch_max')::int, 1000);
	v_personal boolean;
	v_bad bigint;
	v_ids bigint[];
begin
	if v_n > v_max then
		raise exception 'pgsse: a batch of % events is over publish_batch_max (% events)',
			v_n, v_max using errcode = '54000',
			hint = 'Publish it in several batches.';
	end if;
	if array_ndims(p_payloads) > 1 then
		raise exception 'pgsse: the payloads of a batch are a one-dimensional array'
			using errcode = '22023';
	end if;
	select c.personal, (select min(u.i) from unnest(p_payloads)
		with ordinality u (p, i)
		where not coalesce(jsonb_typeof(u.p) = 'object'
			and octet_length(u.p::text) <= (select value::int
				from pgsse.settings where name = 'max_payload')
			and not exists (select from pgsse.event_fields f
				where f.channel = p_channel and f.event = p_event
				and not pgsse.type_ok(u.p -> f.field, f.type)), false))
		into v_personal, v_bad
	from pgsse.events e join pgsse.channels c on c.name = e.channel
	where e.channel = p_channel and e.name = p_event;
	if not found then
		perform pgsse.explain_invalid(p_channel, p_event, '{}');
	end if;
	if v_bad is not null then
		begin
			perform pgsse.explain_invalid(p_channel, p_event,
				p_payloads[array_lower(p_payloads, 1) + v_bad - 1]);
		exception when others then
			raise exception 'pgsse: event % of the batch: %', v_bad,
				regexp_replace(sqlerrm, '^pgsse: ', '')
				using errcode = sqlstate;
		end;
	end if;
	if (p_user is null and v_personal) or p_user is not null then
		perform pgsse.explain_recipient(p_channel, v_personal, p_user);
	end if;
	if v_n = 0 then
		return '{}';
	end if;
	if current_setting('pgsse.log_epoch_server', true) is distinct from
		pg_postmaster_start_time()::text then
		perform pgsse.log_epoch();
	end if;
	perform pg_advisory_xact_lock(1886610277, hashtext(p_channel));
	with e as (
		insert into pgsse.log (id, channel, event, payload, recipient)
		select nextval('pgsse.log_id_seq'), p_channel, p_event, u.p, p_user
		from unnest(p_payloads) u (p)
		returning id)
	select array_agg(id order by id) into v_ids from e;
	perform pg_notify('pgsse', p_channel || ':' || v_ids[v_n]);
	return v_ids;
end $$;

-- How long pgsse.prune and pgsse.log_maintain wait for a lock on the
-- log at each try, as a lock_timeout in ms: 100, or half the
-- deadlock_timeout if less, so that a try gives up before any
-- transaction it holds up looks for a deadlock (as pgsse-schema does).
create or replace function pgsse.log_lock_wait() returns text
language sql stable as $$
	select (extract(epoch from least(interval '100 ms',
		current_setting('deadlock_timeout')::interval / 2)) * 1000)::int::text
$$;

-- The id that the next publish gets (unless another comes first).
create or replace function pgsse.log_next_id() returns bigint
language sql stable security definer set search_path = pg_catalog, pgsse as $$
	select last_value + is_called::int from pgsse.log_id_seq
$$;

-- The range partitions of pgsse.log, oldest first: each one's table
-- and its ids, from lo (NULL: the lowest) up to hi, not included. The
-- default partition is not one of them.
create or replace function pgsse.log_partitions(out part regclass,
	out lo bigint, out hi bigint) returns setof record
language sql stable set search_path = pg_catalog, pgsse as $$
	select c.oid::regclass, nullif(b[1], 'MINVALUE')::bigint,
		nullif(b[2], 'MAXVALUE')::bigint
	from pg_inherits i join pg_class c on c.oid = i.inhrelid,
		regexp_match(pg_get_expr(c.relpartbound, c.oid),
		'^FOR VALUES FROM \(''?([^'')]+)''?\) TO \(''?([^'')]+)''?\)$') b
	where i.inhparent = 'pgsse.log'::regclass and b is not null
	order by 2 nulls first
$$;

-- Makes the partitions of pgsse.log ahead of its ids: afterwards range
-- partitions cover the log_partition_rows ids from the next one. Each
-- new one is log_partition_rows ids wide and starts where the last one
-- ends, or above the ids in the default partition (events published
-- while none covered them stay there until retention takes them), or,
-- if the ids have run far past them all, at the next id (rounded down
-- to a multiple of log_partition_rows, plus 1); at most 8 a call. One
-- session at a time makes or drops partitions (pgsse.prune too):
-- another's call returns 0 at once. Each partition waits at most
-- pgsse.log_lock_wait() for its locks, else it is left for the next
-- call: pgsse.log EXCLUSIVE, so that no publish meanwhile routes an
-- event to the default partition, which the new one would take over
-- (readers go on), and pgsse.log_default, which is read to check it. pgsse.prune calls it. Returns how many it
-- made; raises 22023 if log_partition_rows is not 1 to 1000000000.
create or replace function pgsse.log_maintain() returns int
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v_set text := pgsse.setting('log_partition_rows');
	v_rows bigint;
	v_next bigint;
	v_lo bigint; v_name text; n int := 0;
	v_lt text := current_setting('lock_timeout');
begin
	if v_set ~ '^[0-9]{1,10}$' then
		v_rows := v_set::bigint;
	end if;
	if v_rows is null or v_rows not between 1 and 1000000000 then
		raise exception 'pgsse: log_partition_rows must be 1 to 1000000000, not "%"',
			v_set using errcode = '22023';
	end if;
	if not pg_try_advisory_xact_lock(1886610281) then
		return 0;
	end if;
	v_next := pgsse.log_next_id();
	select max(hi) into v_lo from pgsse.log_partitions();
	v_lo := greatest(v_lo, v_next - (v_next - 1) % v_rows);
	while v_lo < v_next + v_rows and n < 8 loop
		begin
			perform set_config('lock_timeout', pgsse.log_lock_wait(), true);
			lock table only pgsse.log in exclusive mode;
			lock table pgsse.log_default in access exclusive mode;
			v_lo := greatest(v_lo,
				(select max(id) + 1 from pgsse.log_default));
			v_name := 'log_' || v_lo;
			execute format('create table pgsse.%I (like pgsse.log including defaults)',
				v_name);
			execute format('alter table pgsse.log attach partition pgsse.%I for values from (%s) to (%s)',
				v_name, v_lo, v_lo + v_rows);
			perform set_config('lock_timeout', v_lt, true);
		exception when lock_not_available then
			exit;
		end;
		v_lo := v_lo + v_rows;
		n := n + 1;
	end loop;
	return n;
end $$;

-- Removes events past retention; returns how many. An event is past
-- retention once it is older than retention_interval, or not among the
-- newest retention_count of its channel. The runner calls it on a
-- schedule; publish() never does. How (docs/ARCHITECTURE.md):
--  * a full partition (every id in it handed out) whose events are all
--    past retention is dropped whole, oldest first, up to the first
--    one that holds an event that is not: no row is deleted, so it
--    costs a read of the partition, not a write per event;
--  * elsewhere, events past retention_count are deleted row by row, as
--    before partitioning: retention_count stays a cap per channel;
--  * events past retention_interval are deleted row by row only in the
--    default partition, and in the partition being filled once its
--    first event is past it; in a full partition they wait for the
--    whole partition to go, at most retention_interval after its last
--    event was published.
-- Each channel's pruned_through becomes the highest id removed from it.
-- One session prunes at a time: another's call returns 0 at once. The
-- partitions are dropped last, in at most 5 tries that each wait at
-- most pgsse.log_lock_wait() for the log (publishers and readers wait
-- meanwhile); if it stays busy they are left, with a WARNING, for the
-- next prune. Then pgsse.log_maintain() makes partitions ahead.
create or replace function pgsse.prune() returns bigint
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v_old timestamptz := now() - pgsse.setting('retention_interval')::interval;
	v_count int := pgsse.setting('retention_count')::int;
	v_head bigint := pgsse.log_next_id() - 1;
	v_lt text := current_setting('lock_timeout');
	v_chs text[] := '{}'; v_cuts bigint[] := '{}';
	v_drop text[] := '{}'; v_dch text[] := '{}'; v_dtop bigint[] := '{}';
	v_pch text[]; v_ptop bigint[]; v_pn bigint; v_dn bigint := 0;
	v_keep bigint; v_from bigint; v_kept boolean; p record; i int;
	v_total bigint := 0; v_n bigint; v_top bigint; v_cut bigint; c text;
begin
	if not pg_try_advisory_xact_lock(1886610281) then
		return 0;
	end if;
	-- Each channel's newest id past retention_count (NULL: none).
	for c in select name from pgsse.channels
		union select channel from pgsse.channel_state loop
		select id into v_cut from pgsse.log where channel = c
			order by id desc offset v_count limit 1;
		v_chs := v_chs || c;
		v_cuts := v_cuts || v_cut;
	end loop;
	-- The full partitions that go whole. A SHARE lock waits for the
	-- inserts still open in one, and holds off late ones, till commit.
	for p in select * from pgsse.log_partitions() where hi - 1 <= v_head
		order by lo nulls first loop
		begin
			perform set_config('lock_timeout', pgsse.log_lock_wait(), true);
			execute format('lock table %s in share mode', p.part);
			perform set_config('lock_timeout', v_lt, true);
		exception when lock_not_available then
			exit;
		end;
		-- Its last event is usually a witness that it stays (found
		-- by the index); else one read of it says, and what it had.
		execute format('select exists (select from (select * from %s order by id desc limit 1) l left join unnest($2, $3) k (ch, cut) on k.ch = l.channel where l.created_at >= $1 and l.id > coalesce(k.cut, 0))',
			p.part) into v_kept using v_old, v_chs, v_cuts;
		exit when v_kept;
		execute format('select coalesce(bool_or(kept), false), coalesce(array_agg(channel), ''{}''), coalesce(array_agg(top), ''{}''), coalesce(sum(n), 0) from (select l.channel, max(l.id) top, count(*) n, bool_or(l.created_at >= $1 and l.id > coalesce(k.cut, 0)) kept from %s l left join unnest($2, $3) k (ch, cut) on k.ch = l.channel group by l.channel) x',
			p.part) into v_kept, v_pch, v_ptop, v_pn using v_old, v_chs, v_cuts;
		exit when v_kept;
		v_drop := v_drop || p.part::text;
		v_dch := v_dch || v_pch;
		v_dtop := v_dtop || v_ptop;
		v_dn := v_dn + v_pn;
		v_keep := p.hi;
	end loop;
	-- Row by row in the rest: by time only from the partition being
	-- filled, and only once its first event is past retention.
	select lo into v_from from pgsse.log_partitions() where hi - 1 > v_head
		order by lo limit 1;
	if (select created_at from pgsse.log where id >= v_from
		order by id limit 1) >= v_old then
		v_from := null;
	end if;
	for i in 1 .. coalesce(array_length(v_chs, 1), 0) loop
		with g1 as (delete from pgsse.log where channel = v_chs[i]
				and id <= v_cuts[i] and (v_keep is null or id >= v_keep)
				and tableoid <> 'pgsse.log_default'::regclass
				returning id),
			g2 as (delete from pgsse.log where channel = v_chs[i]
				and id >= v_from and (v_cuts[i] is null or id > v_cuts[i])
				and created_at < v_old
				and tableoid <> 'pgsse.log_default'::regclass
				returning id),
			g3 as (delete from pgsse.log_default where channel = v_chs[i]
				and (id <= v_cuts[i] or created_at < v_old) returning id)
		select count(*), max(id) into v_n, v_top from (select id from g1
			union all select id from g2 union all select id from g3) g;
		if v_n > 0 then
			insert into pgsse.channel_state (channel, pruned_through)
			values (v_chs[i], v_top)
			on conflict (channel) do update set pruned_through =
				greatest(pgsse.channel_state.pruned_through, excluded.pruned_through);
			v_total := v_total + v_n;
		end if;
	end loop;
	-- Finished jobs follow the same schedule; the count is of events.
	delete from pgsse.jobs where state not in ('queued', 'running')
		and finished_at < now() - pgsse.setting('retention_interval')::interval;
	for i in 1 .. case when cardinality(v_drop) > 0 then 5 else 0 end loop
		begin
			perform set_config('lock_timeout', pgsse.log_lock_wait(), true);
			lock table only pgsse.log in access exclusive mode;
			lock table pgsse.log_default in access exclusive mode;
			execute 'drop table ' || array_to_string(v_drop, ', ');
			perform set_config('lock_timeout', v_lt, true);
			insert into pgsse.channel_state (channel, pruned_through)
			select ch, max(top) from unnest(v_dch, v_dtop) u (ch, top)
			group by ch
			on conflict (channel) do update set pruned_through =
				greatest(pgsse.channel_state.pruned_through, excluded.pruned_through);
			v_total := v_total + v_dn;
			v_drop := '{}';
		exception when lock_not_available then
			perform pg_sleep(0.05 * i);
		end;
		exit when cardinality(v_drop) = 0;
	end loop;
	if cardinality(v_drop) > 0 then
		raise warning 'pgsse.prune: pgsse.log stayed in use; % partitions wait for the next prune',
			cardinality(v_drop);
	end if;
	begin
		perform pgsse.log_maintain();
	exception when invalid_parameter_value then
		raise warning '%', sqlerrm;
	end;
	return v_total;
end $$;

do $$ begin perform pgsse.log_maintain(); end $$;

-- The job queue. Runners claim jobs with FOR UPDATE SKIP LOCKED and hold
-- a session advisory lock on each job they run: if a runner dies, its
-- connection ends, the lock goes, and pgsse.recover() requeues the job
-- (or fails it after max_attempts). A job is never stuck in running.
create table if not exists pgsse.jobs (
	id	bigserial primary key,
	kind	text not null check (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
	args	jsonb not null default '{}',
	state	text not null default 'queued'
		check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
	dedupe_key text,
	attempts int not null default 0,
	max_attempts int not null default 3,
	exit_status int,
	error	text,
	runner	text,
	owner	text,		-- the web user who enqueued it, or NULL
	cancel_requested timestamptz,	-- pgsse.cancel() of a running job
	created_at timestamptz not null default now(),
	started_at timestamptz,
	finished_at timestamptz
);
alter table pgsse.jobs add column if not exists owner text;
alter table pgsse.jobs add column if not exists cancel_requested timestamptz;
create unique index if not exists jobs_dedupe on pgsse.jobs (dedupe_key)
	where state in ('queued', 'running');
create index if not exists jobs_key on pgsse.jobs (dedupe_key, created_at);
create index if not exists jobs_queued on pgsse.jobs (id) where state = 'queued';
create index if not exists jobs_active on pgsse.jobs (state)
	where state in ('queued', 'running');

-- Row-level security: a role other than the owner sees a job only
-- while pgsse.user is its owner or one of the user_readers, or if it
-- has no owner (enqueued by a script). sql/roles.sql lets the stream
-- and runner roles see every job.
alter table pgsse.jobs enable row level security;
drop policy if exists jobs_owner on pgsse.jobs;
create policy jobs_owner on pgsse.jobs for select using
	(pgsse.user_may_read(owner, current_setting('pgsse.user', true)));

-- Enqueues a job owned by p_owner (a web user, or NULL) and returns its
-- id; its events go to its owner (pgsse.publish's user). With a
-- dedupe_key, a job with the same key that is still queued or running
-- is returned instead, so a double click does not start two.
create or replace function pgsse.enqueue_owned(p_kind text, p_args jsonb,
	p_dedupe_key text, p_owner text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	v_id bigint;
begin
	if p_dedupe_key is not null then
		perform pg_advisory_xact_lock(1886610278, hashtext(p_dedupe_key));
		select id into v_id from pgsse.jobs where dedupe_key = p_dedupe_key
			and state in ('queued', 'running');
		if found then
			return v_id;
		end if;
	end if;
	insert into pgsse.jobs (kind, args, dedupe_key, max_attempts, owner)
	values (p_kind, coalesce(p_args, '{}'), p_dedupe_key,
		pgsse.setting('job_max_attempts')::int, p_owner)
	returning id into v_id;
	perform pgsse.publish('operations', 'operation_status',
		jsonb_build_object('job_id', v_id, 'kind', p_kind, 'state', 'queued'),
		p_owner);
	perform pg_notify('pgsse_jobs', v_id::text);
	return v_id;
end $$;

-- Enqueues a job with no owner (everyone's), as enqueue_owned does.
create or replace function pgsse.enqueue(p_kind text, p_args jsonb default '{}',
	p_dedupe_key text default null) returns bigint
language sql security definer set search_path = pg_catalog, pgsse as $$
	select pgsse.enqueue_owned(p_kind, p_args, p_dedupe_key, null)
$$;

-- The job kinds that the web role may enqueue (pgsse.web_enqueue): an
-- app declares each one with its arguments (name -> registry type), the
-- least time between two jobs of one dedupe key, and the most queued at
-- once. The defaults are PGSSE_ENQUEUE_COOLDOWN_SEC and
-- PGSSE_JOBS_QUEUED_MAX in pgsse.h.
create table if not exists pgsse.job_kinds (
	kind	text primary key check (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
	description text not null,
	args	jsonb not null default '{}' check (jsonb_typeof(args) = 'object'),
	cooldown_sec int not null default 2 check (cooldown_sec >= 0),
	max_queued int not null default 100 check (max_queued > 0)
);
-- Of those, queued jobs of one web user at most (PGSSE_JOBS_QUEUED_USER_MAX).
alter table pgsse.job_kinds add column if not exists max_queued_per_user
	int not null default 10 check (max_queued_per_user > 0);

-- Raises 22023 unless p_args has exactly the arguments kind k declares,
-- each of its type, and every string is at most job_arg_max bytes with
-- no control character (a newline would forge a runner's output line).
create or replace function pgsse.check_job_args(k pgsse.job_kinds,
	p_args jsonb) returns void
language plpgsql stable set search_path = pg_catalog, pgsse as $$
declare
	f record;
begin
	if jsonb_typeof(p_args) is distinct from 'object' then
		raise exception 'pgsse: arguments of % must be a JSON object', k.kind
			using errcode = '22023';
	end if;
	for f in select key, value from jsonb_each(p_args) loop
		if not pgsse.type_ok(f.value, coalesce(k.args ->> f.key, '-')) then
			raise exception 'pgsse: argument "%" of % is not declared as %',
				f.key, k.kind, jsonb_typeof(f.value) using errcode = '22023';
		end if;
		if jsonb_typeof(f.value) = 'string' and (f.value #>> '{}' ~ '[[:cntrl:]]'
			or octet_length(f.value #>> '{}') > pgsse.setting('job_arg_max')::int) then
			raise exception 'pgsse: argument "%" of % has a control character or is over job_arg_max',
				f.key, k.kind using errcode = '22023';
		end if;
	end loop;
	if exists (select from jsonb_object_keys(k.args) a where not p_args ? a) then
		raise exception 'pgsse: % needs the arguments %', k.kind, k.args
			using errcode = '22023';
	end if;
end $$;

-- What the web role calls instead of enqueue(): only a declared kind
-- with valid arguments, owned by the web user (pgsse.user, which
-- pgsse-app sets to REMOTE_USER; NULL without one). A job of the same
-- dedupe key (by default the kind, arguments and owner, so that two
-- users' actions are two jobs; an app's own key is shared by every
-- user, and the job returned may then be one the user cannot see)
-- still queued or running is returned with existed true, not started
-- again, so an action can tell a double click from a
-- new job; one started less than cooldown_sec ago, or max_queued jobs
-- of the kind already queued, raise SQLSTATE PS429 with the seconds to
-- wait in the HINT (pgsse-app answers 429 with Retry-After).
drop function if exists pgsse.web_enqueue(text, jsonb, text);
create function pgsse.web_enqueue(p_kind text, p_args jsonb default '{}',
	p_dedupe_key text default null, out id bigint, out existed boolean)
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	k pgsse.job_kinds; v_key text; v_wait int;
	v_owner text := nullif(current_setting('pgsse.user', true), '');
begin
	select * into k from pgsse.job_kinds where kind = p_kind;
	if not found then
		raise exception 'pgsse: job kind "%" may not be enqueued from the web',
			p_kind using errcode = '22023';
	end if;
	perform pgsse.check_job_args(k, p_args);
	v_key := coalesce(p_dedupe_key, p_kind || ':' ||
		md5(jsonb_build_array(v_owner, p_args)::text));
	perform pg_advisory_xact_lock(1886610278, hashtext(v_key));
	select j.id into id from pgsse.jobs j where j.dedupe_key = v_key
		and j.state in ('queued', 'running');
	existed := found;
	if existed then
		return;
	end if;
	select ceil(k.cooldown_sec - extract(epoch from now() - max(created_at)))
		into v_wait from pgsse.jobs where dedupe_key = v_key;
	if v_wait > 0 then
		raise exception 'pgsse: % ran a moment ago; retry in % s', p_kind,
			v_wait using errcode = 'PS429', hint = v_wait::text;
	end if;
	if v_owner is not null and (select count(*) from pgsse.jobs
		where kind = p_kind and state = 'queued' and owner = v_owner)
		>= k.max_queued_per_user then
		raise exception 'pgsse: you have % jobs of kind % queued already',
			k.max_queued_per_user, p_kind using errcode = 'PS429',
			hint = greatest(k.cooldown_sec, 1)::text;
	end if;
	if (select count(*) from pgsse.jobs where kind = p_kind
		and state = 'queued') >= k.max_queued then
		raise exception 'pgsse: % jobs of kind % are queued already',
			k.max_queued, p_kind using errcode = 'PS429',
			hint = greatest(k.cooldown_sec, 1)::text;
	end if;
	id := pgsse.enqueue_owned(p_kind, p_args, v_key, v_owner);
end $$;

-- Claims the oldest queued job for p_runner and locks it for this
-- session. Returns no row when none is queued.
create or replace function pgsse.claim(p_runner text)
returns setof pgsse.jobs
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	j pgsse.jobs;
begin
	update pgsse.jobs set state = 'running', attempts = attempts + 1,
		started_at = now(), runner = p_runner
	where id = (select id from pgsse.jobs where state = 'queued'
		order by id for update skip locked limit 1)
	returning * into j;
	if found then
		perform pg_advisory_lock(1886610279, (j.id % 2147483647)::int);
		return next j;
	end if;
end $$;

-- Ends a job this session runs, and releases its lock.
create or replace function pgsse.finish(p_id bigint, p_state text,
	p_exit int, p_error text) returns void
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
begin
	update pgsse.jobs set state = p_state, exit_status = p_exit,
		error = p_error, finished_at = now()
	where id = p_id and state = 'running';
	perform pg_advisory_unlock(1886610279, (p_id % 2147483647)::int);
end $$;

-- Cancels job p_id. Whoever acts for a web user (pgsse.user is set, or
-- the session's role is the web role, pgsse_web or a member of it, a
-- superuser excepted) cancels only a job whose owner is that user: any
-- other id, someone else's job, one with no owner or none at all,
-- raises SQLSTATE PS403 (pgsse-app answers 403) and changes nothing;
-- so does a web caller with no user, whatever the job.
-- Other callers (the schema owner, scripts) cancel any job. A queued
-- job becomes cancelled at once and never runs: the job's complete
-- {state: cancelled} and operation_status cancelled are published to
-- its owner. A running one is marked (cancel_requested) and its runner
-- told (NOTIFY pgsse_cancel, 'id'): it stops the job's process group,
-- TERM then KILL after its grace period, and finishes it cancelled;
-- operation_status says cancelling meanwhile. Returns the job's state:
-- 'cancelled', 'cancelling', or how a finished job ended (unchanged).
create or replace function pgsse.cancel(p_id bigint) returns text
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	j pgsse.jobs;
	v_user text := nullif(current_setting('pgsse.user', true), '');
	v_web boolean;
begin
	v_web := v_user is not null or (exists (select from pg_roles
		where rolname = 'pgsse_web') and not (select rolsuper from pg_roles
		where rolname = session_user) and pg_has_role(session_user,
		'pgsse_web', 'member'));
	select * into j from pgsse.jobs where id = p_id for update;
	if not found or (v_web and (v_user is null or
		j.owner is distinct from v_user)) then
		raise exception 'pgsse: job % is not yours to cancel', p_id
			using errcode = 'PS403';
	end if;
	if j.state = 'queued' then
		update pgsse.jobs set state = 'cancelled', error = 'cancelled',
			finished_at = now() where id = p_id;
		perform pgsse.publish('job', 'complete', jsonb_build_object(
			'job_id', p_id, 'state', 'cancelled'), j.owner);
		perform pgsse.publish('operations', 'operation_status',
			jsonb_build_object('job_id', p_id, 'kind', j.kind,
			'state', 'cancelled'), j.owner);
		return 'cancelled';
	end if;
	if j.state <> 'running' then
		return j.state;
	end if;
	if j.cancel_requested is null then
		update pgsse.jobs set cancel_requested = now() where id = p_id;
		perform pgsse.publish('operations', 'operation_status',
			jsonb_build_object('job_id', p_id, 'kind', j.kind,
			'state', 'cancelling'), j.owner);
	end if;
	perform pg_notify('pgsse_cancel', p_id::text);
	return 'cancelling';
end $$;

-- Requeues (or, after max_attempts, fails) running jobs whose runner is
-- gone: nobody holds their lock. Returns how many it touched. Call it
-- only from a session that runs no job itself (its own locks would
-- not block it).
create or replace function pgsse.recover() returns int
language plpgsql security definer set search_path = pg_catalog, pgsse as $$
declare
	j record; n int := 0; v_state text;
begin
	for j in select id, kind, attempts, max_attempts, owner,
		cancel_requested from pgsse.jobs
		where state = 'running' for update skip locked loop
		if pg_try_advisory_xact_lock(1886610279, (j.id % 2147483647)::int) then
			-- One being cancelled is not run again.
			v_state := case when j.cancel_requested is not null
				then 'cancelled' when j.attempts < j.max_attempts
				then 'queued' else 'failed' end;
			update pgsse.jobs set state = v_state,
				error = case when v_state = 'cancelled'
					then 'cancelled' else 'runner lost' end,
				runner = null,
				finished_at = case when v_state = 'queued'
					then null else now() end
			where id = j.id;
			if v_state = 'cancelled' then
				perform pgsse.publish('job', 'complete',
					jsonb_build_object('job_id', j.id,
					'state', v_state), j.owner);
			end if;
			perform pgsse.publish('operations', 'operation_status',
				jsonb_build_object('job_id', j.id, 'kind', j.kind,
				'state', v_state), j.owner);
			n := n + 1;
		end if;
	end loop;
	return n;
end $$;
