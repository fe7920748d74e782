-- A channel private to alice, for the tests of private channels.
insert into pgsse.channels (name, description, private, readers)
values ('secret', 'private test channel', true, '{alice}')
on conflict (name) do nothing;
insert into pgsse.events (channel, name, description)
values ('secret', 'note', 'a note')
on conflict do nothing;
