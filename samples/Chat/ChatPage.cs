namespace Chat;

/// <summary>The page served at "/": a minimal chat client for any browser.</summary>
/// <remarks>With <c>?name=N&amp;say=TEXT</c> it joins as N (the room's URL carries the name, attached at the upgrade),
/// says TEXT once connected, and answers every line addressed to it ("@N ...") with "saw: ...": the browser test
/// drives a real browser that way. A <c>token</c> in the page's URL is passed on to the room's URL (a browser cannot
/// set an Authorization header on a WebSocket).</remarks>
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
        const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?' + query);
        ws.onopen = () => {
          const joined = params.get('room');
          document.getElementById('status').textContent = 'connected as ' + name.value + ' in ' + (joined || 'the lobby');
          if (joined) ws.send('/join ' + joined);
          if (params.get('say')) ws.send(params.get('say'));
        };
        ws.onmessage = (e) => {
          show(e.data);
          const mention = '@' + name.value + ' ';
          const at = e.data.indexOf(mention);
          if (at >= 0 && !e.data.startsWith(name.value + ':')) ws.send('saw: ' + e.data.slice(at + mention.length));
        };
        ws.onclose = (e) => { document.getElementById('status').textContent = 'closed (' + e.code + ')'; show('connection closed', 'system'); };
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
