
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sockkit' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sockkit'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sockkit' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a TCP server and relay stdin to it and its data to stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for TCP clients and relay stdin to them and their data to stdout')
            [CompletionResult]::new('udp-listen', 'udp-listen', [CompletionResultType]::ParameterValue, 'Receive UDP datagrams from any number of senders and answer the most recent one')
            [CompletionResult]::new('udp-send', 'udp-send', [CompletionResultType]::ParameterValue, 'Send UDP datagrams and wait for the replies')
            [CompletionResult]::new('lab-client', 'lab-client', [CompletionResultType]::ParameterValue, 'Play the student''s side of the socket-lab pickle handshake')
            [CompletionResult]::new('lab-server', 'lab-server', [CompletionResultType]::ParameterValue, 'Run the socket-lab server: many students at once, and no bad client can stop it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockkit;connect' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Source address to connect from')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Source address to connect from')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Source port to connect from')
            [CompletionResult]::new('--source-port', '--source-port', [CompletionResultType]::ParameterName, 'Source port to connect from')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused connection for this long (wait for a server to start)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Close the connection after this long without data in either direction (exit 1)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close the connection after this long without data in either direction (exit 1)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once)')
            [CompletionResult]::new('--quit-after-eof', '--quit-after-eof', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Do not half-close the connection when stdin ends')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send: ignore what the peer sends, quit when stdin ends')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive: do not read stdin')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Zero-I/O mode: report which ports accept a connection, send nothing')
            [CompletionResult]::new('--zero-io', '--zero-io', [CompletionResultType]::ParameterName, 'Zero-I/O mode: report which ports accept a connection, send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a live byte count and rate on stderr (when it is a terminal)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;listen' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits: `listen -p 12345`)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits: `listen -p 12345`)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Most clients served at once with -k; extra clients are closed')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most clients served at once with -k; extra clients are closed')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends (single-client mode)')
            [CompletionResult]::new('--quit-after-eof', '--quit-after-eof', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends (single-client mode)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep listening: serve many clients at once')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep listening: serve many clients at once')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every client''s data back to it')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Relay each client''s data to all other clients (implies -k)')
            [CompletionResult]::new('--chat', '--chat', [CompletionResultType]::ParameterName, 'Like --broker, with a `<clientN>` prefix on each line and control characters escaped')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Do not half-close the connection when stdin ends')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send: ignore what clients send')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive: do not read stdin')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a live byte count and rate on stderr (when it is a terminal)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;udp-listen' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit 0 after this many datagrams')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit udp-listen -l 12345` works')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit udp-listen -u 12345` works like `nc -u -l 12345`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--show-sender', '--show-sender', [CompletionResultType]::ParameterName, 'Prefix each datagram with the address it came from')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every datagram back to its sender')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr (implies --show-sender)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr (implies --show-sender)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;udp-send' {
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep resending the first datagram while the port is closed, for this long (wait for a listener to start)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Stop waiting for replies after this long without one (0 = do not wait)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many replies')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--show-sender', '--show-sender', [CompletionResultType]::ParameterName, 'Prefix each reply with the address it came from')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;lab-client' {
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Server address')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Student name')
            [CompletionResult]::new('--github', '--github', [CompletionResultType]::ParameterName, 'GitHub user name')
            [CompletionResult]::new('--sid', '--sid', [CompletionResultType]::ParameterName, 'Student id')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused connection for this long (wait for a server to start)')
            [CompletionResult]::new('--ack-timeout', '--ack-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the acknowledgement')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Give up connecting after this long')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol of the student dict (Python 3.8+ sends 4)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show every message exchanged, each direction labelled')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show every message exchanged, each direction labelled')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;lab-server' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (0 picks a free one and prints it)')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Close a client that has not completed its handshake after this long')
            [CompletionResult]::new('--roster', '--roster', [CompletionResultType]::ParameterName, 'Append one CSV row per acknowledged student to this file')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Most clients connected at once; extra clients are closed')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most clients connected at once; extra clients are closed')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest message accepted from a client, in bytes')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show every message exchanged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show every message exchanged')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;help' {
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a TCP server and relay stdin to it and its data to stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for TCP clients and relay stdin to them and their data to stdout')
            [CompletionResult]::new('udp-listen', 'udp-listen', [CompletionResultType]::ParameterValue, 'Receive UDP datagrams from any number of senders and answer the most recent one')
            [CompletionResult]::new('udp-send', 'udp-send', [CompletionResultType]::ParameterValue, 'Send UDP datagrams and wait for the replies')
            [CompletionResult]::new('lab-client', 'lab-client', [CompletionResultType]::ParameterValue, 'Play the student''s side of the socket-lab pickle handshake')
            [CompletionResult]::new('lab-server', 'lab-server', [CompletionResultType]::ParameterValue, 'Run the socket-lab server: many students at once, and no bad client can stop it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockkit;help;connect' {
            break
        }
        'sockkit;help;listen' {
            break
        }
        'sockkit;help;udp-listen' {
            break
        }
        'sockkit;help;udp-send' {
            break
        }
        'sockkit;help;lab-client' {
            break
        }
        'sockkit;help;lab-server' {
            break
        }
        'sockkit;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
