// The real-time channel: one WebSocket per signed-in tab, opened with the ID token in the query
// string (browsers cannot set headers on a WebSocket). Sends a ping every 5 minutes (API Gateway
// closes a connection idle for 10) and reconnects after a close (a connection lasts at most 2
// hours), backing off up to 30 s; a 401 at the handshake shows up as a close, so it reconnects
// with the token the API client refreshed meanwhile.
import { tokens } from "./api.js";

const PING_MS = 5 * 60 * 1000;

export function connectLive(url, onMessage, onState = () => {}) {
  let socket = null;
  let ping = null;
  let delay = 1000;
  let stopped = false;

  function open() {
    if (stopped || !url || !tokens.idToken) return;
    socket = new WebSocket(`${url}?token=${encodeURIComponent(tokens.idToken)}`);
    socket.addEventListener("open", () => {
      delay = 1000;
      onState("live");
      ping = setInterval(() => socket.send(JSON.stringify({ action: "ping" })), PING_MS);
    });
    socket.addEventListener("message", (event) => {
      try {
        onMessage(JSON.parse(event.data));
      } catch {
        /* not JSON: nothing the demo knows */
      }
    });
    socket.addEventListener("close", () => {
      clearInterval(ping);
      onState("offline");
      if (!stopped) setTimeout(open, (delay = Math.min(delay * 2, 30000)));
    });
  }

  open();
  return {
    send: (message) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message)),
    close: () => {
      stopped = true;
      socket?.close();
    },
  };
}
