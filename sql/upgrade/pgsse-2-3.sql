-- pgsse schema upgrade step from version 2 to 3: log epochs, so that a
-- cursor from before a failover is recognised (docs/SSE_EVENTS.md, "Ids").
-- The epoch this step begins is 1, the epoch of every id handed out
-- before it: a plain-number Last-Event-ID is epoch 1's. Nothing in
-- pgsse.log changes. Safe while streams are open: an older stream
-- process takes every id for epoch 1's, which it is until a failover.
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
	if found then
		return v;
	end if;
	-- Held to commit: one new epoch, whoever comes first.
	perform pg_advisory_xact_lock(1886610280, 0);
	select epoch into v from pgsse.epoch_mark
		where started = pg_postmaster_start_time();
	if found then
		return v;
	end if;
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
	return v;
end $$;
do $$ begin perform pgsse.log_epoch(); end $$;

-- Publishes one event to user p_user (NULL: to everyone who reads the
-- channel): validates it against the registry, appends it to the log
-- and rings the doorbell (NOTIFY pgsse, 'channel:id') in the caller's
-- transaction. Returns the event's id. An event to a user reaches only
-- that user's streams (REMOTE_USER) and those of the user_readers; a
-- personal channel takes only such events (22023 without a user). A
-- user name is 1 to 255 bytes (PGSSE_USER_MAX) with no control
-- character. A valid event costs one validation query; only an invalid
-- one pays for the detailed error.
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
	if p_user is null and v_personal then
		raise exception 'pgsse: channel "%" is personal: publish each event to one user',
			p_channel using errcode = '22023',
			hint = 'Call pgsse.publish(channel, event, payload, user), or pgsse-publish -u USER.';
	end if;
	if p_user is not null and (octet_length(p_user) not between 1 and 255
		or p_user ~ '[[:cntrl:]]') then
		raise exception 'pgsse: a user name is 1 to 255 bytes with no control character'
			using errcode = '22023';
	end if;
	-- Held to commit: the next publisher on this channel gets a larger id
	-- and commits after us, so readers see ids in order per channel.
	-- A new history (pgsse.log_epoch) begins before it hands out an id.
	perform pgsse.log_epoch();
	perform pg_advisory_xact_lock(1886610277, hashtext(p_channel));
	v_id := nextval('pgsse.log_id_seq');
	insert into pgsse.log (id, channel, event, payload, recipient)
		values (v_id, p_channel, p_event, p_payload, p_user);
	perform pg_notify('pgsse', p_channel || ':' || v_id);
	return v_id;
end $$;

create or replace function pgsse.schema_version() returns int
language sql stable as $$ select 3 $$;
