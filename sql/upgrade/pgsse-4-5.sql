-- pgsse schema upgrade step from version 4 to 5: publishing costs less
-- and takes batches (sql/pgsse.sql, docs/DEPLOY.md). pgsse.publish()
-- calls pgsse.log_epoch() only at a session's first publish on a
-- server (log_epoch notes it in the session setting
-- pgsse.log_epoch_server); the three-argument publish() is PL/pgSQL,
-- no longer parsed again at every call; pgsse.publish_batch() publishes
-- many events of one kind in one statement, at most the new setting
-- publish_batch_max a call. Functions and a setting only: no table
-- changes, so it takes no lock that streams or publishers wait for
-- beyond the functions' own.
create or replace function pgsse.schema_version() returns int
language sql stable as $$ select 5 $$;

insert into pgsse.settings (name, value, description) values
	('publish_batch_max', '1000', 'events that one publish_batch() call takes at most (PGSSE_PUBLISH_BATCH_MAX)')
on conflict (name) do nothing;

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

