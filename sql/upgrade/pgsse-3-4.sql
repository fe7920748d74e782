-- pgsse schema upgrade step from version 3 to 4: pgsse.log becomes a
-- table partitioned by id range, so that retention drops whole
-- partitions instead of deleting rows (sql/pgsse.sql, docs/DEPLOY.md).
-- The old table becomes the first partition, pgsse.log_v3, for every
-- id up to the last one handed out: attached as it is, not copied or
-- rewritten (PostgreSQL reads it once, to check its ids), its indexes
-- becoming the partition's. An empty one is dropped instead, so that
-- the result is exactly a new install. What the old table had moves to
-- the new pgsse.log: its triggers (an app's too), row-level security,
-- policies (sql/roles.sql's too) and grants; pgsse.log_v3 keeps none,
-- so only the parent is read. A view, a foreign key or a function body
-- that names pgsse.log by its identity, or a publication of it, would
-- be left on the old table: the step refuses, naming them.
-- pgsse-schema(1) runs it in one transaction, holding every pgsse
-- table: streams and publishers wait for it, then go on with the new
-- table.
create or replace function pgsse.schema_version() returns int
language sql stable as $$ select 4 $$;

insert into pgsse.settings (name, value, description) values
	('log_partition_rows', '1000000', 'event ids per partition of pgsse.log, 1 to 1000000000 (PGSSE_LOG_PARTITION_ROWS); partitions made after a change take it')
on conflict (name) do nothing;

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

do $$
declare
	v_old regclass := 'pgsse.log'::regclass;
	v_deps text; v_next bigint; v_trig record; v_pol record; v_acl record;
	v_trigs text[] := '{}'; v_after text[] := '{}'; t text;
begin
	if (select relkind from pg_class where oid = v_old) = 'p' then
		return;
	end if;
	select string_agg(x, ', ') into v_deps from (
		select distinct format('view %s', w.ev_class::regclass) x
		from pg_depend d join pg_rewrite w on w.oid = d.objid
		where d.classid = 'pg_rewrite'::regclass and d.refobjid = v_old
			and w.ev_class <> v_old
		union select format('function %s', d.objid::regprocedure)
		from pg_depend d where d.classid = 'pg_proc'::regclass
			and d.refobjid = v_old
		union select format('foreign key %I of %s', conname, conrelid::regclass)
		from pg_constraint where confrelid = v_old
		union select format('publication %I', pubname)
		from pg_publication_tables where schemaname = 'pgsse'
			and tablename = 'log') s;
	if v_deps is not null then
		raise exception 'pgsse: % depend on the table pgsse.log, which this upgrade replaces with a partitioned one',
			v_deps using errcode = '55000',
			hint = 'Drop them, upgrade, then make them again.';
	end if;
	-- What moves to the new table, as statements.
	for v_trig in select tgname, tgenabled, pg_get_triggerdef(oid) def
		from pg_trigger where tgrelid = v_old and not tgisinternal
		order by tgname loop
		execute format('drop trigger %I on pgsse.log', v_trig.tgname);
		continue when v_trig.tgname = 'log_no_update';
		v_trigs := v_trigs || v_trig.def;
		v_trigs := v_trigs || format('alter table pgsse.log %s trigger %I',
			case v_trig.tgenabled when 'D' then 'disable'
			when 'R' then 'enable replica' when 'A' then 'enable always'
			else 'enable' end, v_trig.tgname);
	end loop;
	for v_pol in select * from pg_policies
		where schemaname = 'pgsse' and tablename = 'log' order by policyname loop
		execute format('drop policy %I on pgsse.log', v_pol.policyname);
		v_after := v_after || format('create policy %I on pgsse.log as %s for %s to %s%s%s',
			v_pol.policyname, v_pol.permissive, v_pol.cmd,
			(select string_agg(case when r = 'public' then 'public'
				else quote_ident(r) end, ', ') from unnest(v_pol.roles) r),
			' using (' || v_pol.qual || ')',
			' with check (' || v_pol.with_check || ')');
	end loop;
	for v_acl in select a.privilege_type, a.is_grantable,
		coalesce(quote_ident(r.rolname), 'public') who
		from pg_class c, aclexplode(c.relacl) a left join pg_roles r
			on r.oid = a.grantee
		where c.oid = v_old and a.grantee <> c.relowner loop
		execute format('revoke %s on pgsse.log from %s', v_acl.privilege_type,
			v_acl.who);
		v_after := v_after || format('grant %s on pgsse.log to %s%s',
			v_acl.privilege_type, v_acl.who, case when v_acl.is_grantable
			then ' with grant option' else '' end);
	end loop;
	if (select relrowsecurity from pg_class where oid = v_old) then
		v_after := 'alter table pgsse.log enable row level security'::text || v_after;
		alter table pgsse.log disable row level security;
	end if;
	if (select relforcerowsecurity from pg_class where oid = v_old) then
		v_after := v_after || 'alter table pgsse.log force row level security'::text;
		alter table pgsse.log no force row level security;
	end if;

	alter table pgsse.log rename to log_v3;
	alter index if exists pgsse.log_pkey rename to log_v3_pkey;
	alter index if exists pgsse.log_channel_id rename to log_v3_channel_id_idx;
	alter index if exists pgsse.log_job rename to log_v3_expr_id_idx;
	create table pgsse.log (
		id	bigint primary key,
		channel	text not null,
		event	text not null,
		payload	jsonb not null,
		created_at timestamptz not null default now(),
		recipient text
	) partition by range (id);
	create index log_channel_id on pgsse.log (channel, id);
	create index log_job on pgsse.log ((payload ->> 'job_id'), id)
		where channel = 'job';
	if exists (select from pgsse.log_v3) then
		v_next := greatest(pgsse.log_next_id(),
			(select max(id) + 1 from pgsse.log_v3));
		execute format('alter table pgsse.log attach partition pgsse.log_v3 for values from (minvalue) to (%s)',
			v_next);
	else
		drop table pgsse.log_v3;
	end if;
	create table pgsse.log_default partition of pgsse.log default;
	create trigger log_no_update before update on pgsse.log
		for each row execute function pgsse.log_no_update();
	foreach t in array v_trigs || v_after loop
		execute t;
	end loop;
end $$;

do $$ begin perform pgsse.log_maintain(); end $$;
