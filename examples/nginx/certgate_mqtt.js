/*
 * certgate for MQTT devices behind NGINX stream (njs 0.7+, Debian's
 * libnginx-mod-stream-js). Loaded by certgate-mqtt.conf.
 *
 * preread: after the TLS handshake, read the device's MQTT CONNECT packet up to its
 * client identifier (MQTT 3.1.1 section 3.1,
 * https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc398718028;
 * MQTT 5.0 section 3.1, https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901033),
 * ask certgate's JSON door with the SNI, the client certificate and the client id, and
 * pass the connection on to the broker only on an allow. Anything else (a deny, an
 * error, no answer within js_fetch_timeout, bytes that are not a CONNECT) closes it:
 * fail closed. The packet itself is left in the buffer, so the broker receives it
 * unchanged.
 *
 * lifetime: NGINX asks certgate only at connect. This filter closes a session once it
 * is older than $certgate_max_session_seconds, at the first packet after that moment
 * (an MQTT client sends at least a PINGREQ every keep-alive interval), so the device
 * reconnects and is authorized again.
 */

/** Largest CONNECT prefix read before deciding (client ids are at most 65535 bytes). */
var MAX_CONNECT_PREFIX = 70000;

/** Read an MQTT variable byte integer at `i` (at most 4 bytes). */
function varint(b, i) {
    var value = 0;
    var mult = 1;
    for (var n = 0; n < 4; n++) {
        if (i + n >= b.length) return { more: true };
        var byte = b.charCodeAt(i + n);
        value += (byte & 127) * mult;
        if ((byte & 128) === 0) return { value: value, next: i + n + 1 };
        mult *= 128;
    }
    return { error: 'malformed variable byte integer' };
}

function u16(b, i) {
    return b.charCodeAt(i) * 256 + b.charCodeAt(i + 1);
}

/**
 * The CONNECT packet's protocol level and client id, from the bytes received so far:
 * { more: true } until the client id is complete, { error } when it is not a CONNECT.
 */
function parseConnect(b) {
    if (b.length < 1) return { more: true };
    if (b.charCodeAt(0) !== 0x10) return { error: 'the first packet is not an MQTT CONNECT' };
    var remaining = varint(b, 1);
    if (remaining.more || remaining.error) return remaining;
    var i = remaining.next;
    var end = i + remaining.value;
    if (i + 2 > b.length) return { more: true };
    var nameLength = u16(b, i);
    if (i + 2 + nameLength + 4 > b.length) return { more: true };
    var name = b.substring(i + 2, i + 2 + nameLength);
    var level = b.charCodeAt(i + 2 + nameLength);
    if (!((name === 'MQTT' && (level === 4 || level === 5)) || (name === 'MQIsdp' && level === 3))) {
        return { error: 'unsupported protocol ' + name + ' level ' + level };
    }
    i += 2 + nameLength + 1 + 1 + 2; // name, level, connect flags, keep alive
    if (level === 5) {
        var properties = varint(b, i);
        if (properties.more || properties.error) return properties;
        i = properties.next + properties.value;
    }
    if (i + 2 > b.length) return { more: true };
    var idLength = u16(b, i);
    if (i + 2 + idLength > end) return { error: 'the client identifier overruns the packet' };
    if (i + 2 + idLength > b.length) return { more: true };
    return { level: level, clientId: b.substring(i + 2, i + 2 + idLength) };
}

/** UTF-8 bytes (a byte string) as a JavaScript string; null when not valid UTF-8. */
function utf8(bytes) {
    var octets = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) octets[i] = bytes.charCodeAt(i);
    try {
        return new TextDecoder('utf-8', { fatal: true }).decode(octets);
    } catch (e) {
        return null;
    }
}

function refuse(s, reason) {
    s.variables.certgate_reason = reason;
    s.deny();
}

function preread(s) {
    var received = '';
    s.on('upload', function (data, flags) {
        received += data;
        var connect = parseConnect(received);
        if (connect.more && received.length < MAX_CONNECT_PREFIX && !flags.last) return;
        s.off('upload');
        if (connect.more || connect.error) {
            refuse(s, 'BAD_MQTT_CONNECT');
            return;
        }
        var clientId = utf8(connect.clientId);
        if (clientId === null) {
            refuse(s, 'BAD_MQTT_CONNECT');
            return;
        }
        s.variables.certgate_client_id = clientId === '' ? '-' : clientId;
        var pem = s.variables.ssl_client_raw_cert;
        var body = {
            sni: s.variables.ssl_server_name || null,
            certChain: pem ? [pem] : [],
        };
        if (clientId !== '') body.clientId = clientId;
        ngx.fetch(s.variables.certgate_url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
        })
            .then(function (reply) {
                return reply.text().then(function (text) {
                    var answer = null;
                    try {
                        answer = JSON.parse(text);
                    } catch (e) {
                        answer = null;
                    }
                    var reason = answer && typeof answer.reason === 'string' ? answer.reason : 'AUTHORIZER_HTTP_' + reply.status;
                    s.variables.certgate_reason = reason;
                    if (answer && answer.accountId) s.variables.certgate_account_id = answer.accountId;
                    // Exactly a 200 with allow: true lets the device in.
                    if (reply.status === 200 && answer && answer.allow === true) s.allow();
                    else s.deny();
                });
            })
            .catch(function (e) {
                s.warn('certgate: no answer from the authorizer: ' + e);
                refuse(s, 'AUTHORIZER_UNREACHABLE');
            });
    });
}

function lifetime(s) {
    var max = Number(s.variables.certgate_max_session_seconds || 0) * 1000;
    var started = Date.now();
    function pass(direction) {
        return function (data, flags) {
            if (max > 0 && Date.now() - started > max) {
                s.variables.certgate_reason = 'SESSION_LIFETIME';
                throw new Error('certgate: session older than $certgate_max_session_seconds, closing');
            }
            s.send(data, flags);
        };
    }
    s.on('upload', pass('upload'));
    s.on('download', pass('download'));
}

export default { preread, lifetime, parseConnect };
