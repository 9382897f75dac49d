// imapflow (https://github.com/postalsys/imapflow) as a real client of
// Cairn, driven by tests/integration/test_imapflow.py: commands one per
// line on stdin, events as JSON lines on stdout.
//
//   idle              start IDLE (imapflow ends it by itself before the
//                     next command)
//   fetch MODSEQ      UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE MODSEQ)
//   quit              LOGOUT
'use strict';

const readline = require('readline');
const { ImapFlow } = require('imapflow');

const [port, user, pass] = process.argv.slice(2);

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function debugLogger() {
    const log = obj => process.stderr.write(JSON.stringify(obj) + '\n');
    return { trace: log, debug: log, info: log, warn: log, error: log, fatal: log };
}

function big(v) {
    return v === undefined || v === null ? null : String(v);
}

async function main() {
    const client = new ImapFlow({
        host: '127.0.0.1',
        port: Number(port),
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user, pass },
        // IMAPFLOW_DEBUG=1: imapflow's protocol log on stderr
        logger: process.env.IMAPFLOW_DEBUG ? debugLogger() : false,
        qresync: true,
        disableAutoIdle: true
    });
    client.on('error', err => out({ event: 'error', message: String(err) }));
    await client.connect();
    out({
        event: 'connected',
        capabilities: [...client.capabilities.keys()],
        enabled: [...client.enabled]
    });
    client.on('exists', d => out({ event: 'exists', count: d.count, prevCount: d.prevCount }));
    client.on('expunge', d => out({ event: 'expunge', seq: d.seq || null,
        uid: d.uid || null, vanished: Boolean(d.vanished) }));
    client.on('flags', d => out({ event: 'flags', seq: d.seq, uid: d.uid || null,
        flags: [...d.flags].sort(), modseq: big(d.modseq) }));
    const mb = await client.mailboxOpen('INBOX');
    out({ event: 'opened', exists: mb.exists, uidValidity: big(mb.uidValidity),
        highestModseq: big(mb.highestModseq) });

    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
        const [what, arg] = line.trim().split(/\s+/);
        if (what === 'idle') {
            client.idle().catch(err => out({ event: 'error', message: String(err) }));
            out({ event: 'idle-started' });
        } else if (what === 'fetch') {
            const rows = [];
            for await (const m of client.fetch('1:*', { uid: true, flags: true },
                { uid: true, changedSince: BigInt(arg) })) {
                rows.push({ uid: m.uid, flags: [...m.flags].sort(), modseq: big(m.modseq) });
            }
            out({ event: 'fetched', rows });
        } else if (what === 'quit') {
            await client.logout();
            out({ event: 'bye' });
            return;
        }
    }
}

main().catch(err => {
    out({ event: 'error', message: String(err && err.stack || err) });
    process.exit(1);
});
