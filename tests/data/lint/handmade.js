// expect: 2
const CHANNEL_EVENTS = {
	operations: ['started', 'completed', 'failed'],
};
