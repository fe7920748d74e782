create schema board;
create table board.orders (id bigserial primary key, title text not null,
	link text, job_id bigint);
insert into pgsse.job_kinds (kind, description, args) values
	('ship', 'Ships an order', '{"title": "string"}'),
	('restock', 'Restocks an order', '{"id": "integer"}');
grant usage on schema board to pgsse_web;
grant select on board.orders to pgsse_web;
