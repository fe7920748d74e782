-- expect: 2
select pgsse.publish('demos', 'removed', '{}');
