// sse-manager.js: one EventSource for many channels and many targets.
//
// Pages call window.sseManager.connect(channel, onMessage) from Alpine
// components; every channel asked for in the same tick shares one
// connection to /api/sse?channel=a&channel=b. Asking again for a channel
// already connected adds a listener, never a connection, so Alpine
// re-inits cannot multiply EventSources. Listeners are registered only
// for the event names in CHANNEL_EVENTS (www/js/channel-events.js, made
// from the registry), so back end and front end cannot disagree.
//
// Channel identity: on a connection of several channels the stream names
// each event "<channel>.<event>" (docs/SSE_EVENTS.md), so two channels
// that share an event name stay apart. The manager listens to those
// names and hands each handler a MessageEvent of the plain name, so
// handlers compare event.type with the registry's names either way.
//
// The manager keeps the last event id. When it must open a new
// EventSource (a channel was added, or the browser gave up after an
// error), it passes that id as last_event_id so nothing is lost.
//
// Heartbeat watchdog: a stream idle for its heartbeat interval sends
// pgsse.heartbeat (no id; data {interval, time}). Once the manager has
// learnt the interval, a connection that delivers nothing at all for two
// intervals and a second (the server checks once a second) is taken for
// dead even if its socket is open, as behind a stopped process or a
// silent proxy: the manager closes it, says 'reconnecting' (the badge)
// and opens a new one from its last id, again until one opens.
//
// A registry load that removes a channel ends its streams with
// pgsse.channel_removed (data {channel}); the same URL would get 404,
// which stops an EventSource for good. The manager drops that channel's
// handlers and reconnects with the other channels, from its last id.
(function () {
	'use strict';

	const RESET_EVENT = 'stream_reset';
	const HEARTBEAT_EVENT = 'pgsse.heartbeat';
	const REMOVED_EVENT = 'pgsse.channel_removed';
	const RETRY_MS = 3000;

	function SSEConnectionManager() {
		this.handlers = {};      // channel -> [onMessage]
		this.source = null;      // the one EventSource
		this.channels = [];      // channels of this.source
		this.lastEventId = '';   // last id seen on this.source
		this.state = 'idle';     // idle | connecting | open | reconnecting
		this.opened = 0;         // EventSources opened, for tests
		this.pending = false;
		this.refreshed = false;  // targets refreshed after the first open
		this.heartbeatMs = 0;    // the stream's heartbeat, once learnt
		this.watchdog = null;    // timer that reconnects a silent stream
	}

	SSEConnectionManager.prototype.setState = function (state) {
		this.state = state;
		document.dispatchEvent(new CustomEvent('sse-state', { detail: state }));
	};

	// Registers onMessage(data, event) for every documented event of
	// channel. Returns a function that removes the handler.
	SSEConnectionManager.prototype.connect = function (channel, onMessage) {
		if (!(channel in window.CHANNEL_EVENTS)) {
			throw new Error('sse-manager: undocumented channel ' + channel);
		}
		const list = this.handlers[channel] || (this.handlers[channel] = []);
		if (list.indexOf(onMessage) < 0) {
			list.push(onMessage);
		}
		if (this.channels.indexOf(channel) < 0) {
			this.schedule();
		}
		return () => {
			const i = list.indexOf(onMessage);
			if (i >= 0) list.splice(i, 1);
		};
	};

	// Opens (or reopens) the connection once per tick, for all channels.
	SSEConnectionManager.prototype.schedule = function () {
		if (this.pending) return;
		this.pending = true;
		queueMicrotask(() => {
			this.pending = false;
			this.open();
		});
	};

	SSEConnectionManager.prototype.open = function () {
		const channels = Object.keys(this.handlers).sort();
		if (channels.length === 0) return;
		if (this.source && this.source.readyState !== EventSource.CLOSED &&
		    channels.join() === this.channels.join()) {
			return;
		}
		if (this.source) this.source.close();
		let url = '/api/sse?' + channels.map((c) => 'channel=' + encodeURIComponent(c)).join('&');
		if (this.lastEventId) {
			url += '&last_event_id=' + encodeURIComponent(this.lastEventId);
		}
		const es = new EventSource(url);
		this.source = es;
		this.channels = channels;
		this.opened++;
		// A watchdog's reconnect says 'reconnecting' until it opens.
		if (this.state !== 'reconnecting') this.setState('connecting');
		this.arm(es);
		es.onopen = () => {
			this.seen(es, null);
			this.setState('open');
			// Targets loaded their state before this connection existed:
			// refresh them once, so nothing published in between is missed.
			if (!this.lastEventId && !this.refreshed) {
				this.refreshed = true;
				document.body.dispatchEvent(new CustomEvent('sseReset', { bubbles: true }));
			}
		};
		es.onerror = () => {
			if (es.readyState === EventSource.CLOSED) {
				// The browser gave up: come back ourselves, from the last id.
				this.setState('reconnecting');
				setTimeout(() => { if (this.source === es) this.open(); }, RETRY_MS);
			} else {
				this.setState('reconnecting');
			}
		};
		const qualify = channels.length > 1;
		channels.forEach((channel) => {
			window.CHANNEL_EVENTS[channel].forEach((type) => {
				es.addEventListener(qualify ? channel + '.' + type : type, (event) => {
					if (this.seen(es, event)) this.deliver(channel, type, event);
				});
			});
		});
		es.addEventListener(RESET_EVENT, (event) => {
			if (!this.seen(es, event)) return;
			document.body.dispatchEvent(new CustomEvent('sseReset', { bubbles: true }));
		});
		es.addEventListener(REMOVED_EVENT, (event) => {
			if (!this.seen(es, event)) return;
			try {
				const channel = JSON.parse(event.data).channel;
				console.warn('sse-manager: channel ' + channel + ' was removed');
				delete this.handlers[channel];
			} catch (e) {
				console.error('sse-manager: bad ' + REMOVED_EVENT, e);
			}
			es.close();
			this.open();
		});
		es.addEventListener(HEARTBEAT_EVENT, (event) => {
			try {
				const s = JSON.parse(event.data).interval;
				if (Number.isInteger(s) && s > 0) this.heartbeatMs = s * 1000;
			} catch (e) {
				console.error('sse-manager: bad heartbeat', e);
			}
			this.seen(es, event);
		});
	};

	// Notes that es, the current connection, delivered something: takes
	// the last event id the browser keeps for it (a heartbeat carries the
	// id of the stream's cursor without moving it) and re-arms the
	// watchdog. Returns false if es is no longer the current connection.
	SSEConnectionManager.prototype.seen = function (es, event) {
		if (this.source !== es) return false;
		if (event && event.lastEventId) this.lastEventId = event.lastEventId;
		this.arm(es);
		return true;
	};

	// (Re)starts the watchdog on es, once the heartbeat interval is known.
	SSEConnectionManager.prototype.arm = function (es) {
		clearTimeout(this.watchdog);
		this.watchdog = null;
		if (!this.heartbeatMs) return;
		this.watchdog = setTimeout(() => {
			if (this.source !== es) return;
			es.close();
			this.setState('reconnecting');
			this.open();
		}, 2 * this.heartbeatMs + 1000);
	};

	// Hands event, of type on channel, to the channel's handlers, as a
	// MessageEvent of the plain name if the stream qualified it.
	SSEConnectionManager.prototype.deliver = function (channel, type, event) {
		if (event.type !== type) {
			event = new MessageEvent(type, { data: event.data,
				lastEventId: event.lastEventId, origin: event.origin });
		}
		let data = null;
		try {
			data = JSON.parse(event.data);
		} catch (e) {
			console.error('sse-manager: bad JSON on ' + channel, e);
			return;
		}
		(this.handlers[channel] || []).forEach((fn) => {
			try {
				fn(data, event);
			} catch (e) {
				console.error('sse-manager: handler failed', e);
			}
		});
	};

	window.sseManager = window.sseManager || new SSEConnectionManager();

	// Runs fn once the manager exists (it does as soon as this file ran).
	window.waitForSSEManager = function (fn) {
		if (window.sseManager) fn();
		else document.addEventListener('DOMContentLoaded', () => fn());
	};
})();
