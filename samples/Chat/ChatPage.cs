namespace Chat;

/// <summary>The page served at "/": a minimal chat client for any browser.</summary>
/// <remarks>With <c>?name=N&amp;say=TEXT</c> it joins as N (the room's URL carries the name, attached at the upgrade),
/// says TEXT once connected, and answers every line addressed to it ("@N ...") with "saw: ...": the browser test
/// drives a real browser that way. A <c>token</c> in the page's URL is passed on to the room's URL (a browser cannot
/// set an Authorization header on a WebSocket). When the socket closes for a reason that may pass (1001 going away,
/// 1006 no close frame as when a node is killed, 1011-1014), the page reconnects with exponential backoff and jitter
/// and rejoins with the same name and room (the last "joined NAME" it saw); it says TEXT only once.</remarks>
internal static class ChatPage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>WsGen chat</title>
        <style>
          body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
          #log { list-style: none; padding: 0; border: 1px solid #ccc; height: 20rem; overflow-y: auto; }
          #log li { padding: .25rem .5rem; border-bottom: 1px solid #eee; }
          #log li.system { color: #777; font-style: italic; }
          form { display: flex; gap: .5rem; margin-top: .5rem; }
          #text { flex: 1; }
        </style>
        </head>
        <body>
        <h1>WsGen chat</h1>
        <p id="status">connecting…</p>
        <ul id="log"></ul>
        <form id="form"><input id="name" size="10" readonly><input id="text" placeholder="message" autocomplete="off"><button>Send</button></form>
        <script>
        const params = new URLSearchParams(location.search);
        const name = document.getElementById('name');
        name.value = params.get('name') || 'guest' + Math.floor(Math.random() * 1000);
        const log = document.getElementById('log');
        function show(text, cls) {
          const li = document.createElement('li');
          li.textContent = text;
          if (cls) li.className = cls;
          log.appendChild(li);
          log.scrollTop = log.scrollHeight;
        }
        const query = new URLSearchParams({ name: name.value });
        if (params.get('token')) query.set('token', params.get('token'));
        const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?' + query;
        const status = document.getElementById('status');
        // Closes that a later attempt may not repeat: going away (a node stopping), no close frame at all (a node
        // killed, the network), server error, service restart, try again later, bad gateway.
        const transient = new Set([1001, 1006, 1011, 1012, 1013, 1014]);
        let room = params.get('room');
        let said = false;
        let failures = 0;
        let ws;
        function connect() {
          ws = new WebSocket(url);
          ws.onopen = () => {
            failures = 0;
            status.textContent = 'connected as ' + name.value + ' in ' + (room || 'the lobby');
            if (room) ws.send('/join ' + room);
            if (params.get('say') && !said) {
              said = true;
              ws.send(params.get('say'));
            }
          };
          ws.onmessage = (e) => {
            show(e.data);
            if (e.data.startsWith('joined ')) {
              room = e.data.slice('joined '.length);
              status.textContent = 'connected as ' + name.value + ' in ' + room;
            }
            const mention = '@' + name.value + ' ';
            const at = e.data.indexOf(mention);
            if (at >= 0 && !e.data.startsWith(name.value + ':')) ws.send('saw: ' + e.data.slice(at + mention.length));
          };
          ws.onclose = (e) => {
            if (!transient.has(e.code)) {
              status.textContent = 'closed (' + e.code + ')';
              show('connection closed', 'system');
              return;
            }
            // Exponential backoff from 0.5 s up to 15 s, with jitter so that the members of a killed node do not all
            // come back in the same instant; the same name and room on the new connection.
            const delay = Math.min(15000, 500 * 2 ** failures++) * (0.5 + Math.random() / 2);
            status.textContent = 'connection lost (' + e.code + '), reconnecting in ' + (delay / 1000).toFixed(1) + ' s';
            show('connection lost, reconnecting', 'system');
            setTimeout(connect, delay);
          };
        }
        connect();
        document.getElementById('form').onsubmit = (e) => {
          e.preventDefault();
          const text = document.getElementById('text');
          if (text.value && ws.readyState === WebSocket.OPEN) ws.send(text.value);
          text.value = '';
        };
        </script>
        </body>
        </html>
        """;
}
