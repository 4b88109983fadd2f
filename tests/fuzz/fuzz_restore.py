#!/usr/bin/env python3
# tests/fuzz/fuzz_restore.py PORT N [SEED]: against a running mwrt-server
# (best an ASan build: cmake -DMWRT_SANITIZE=address), RESTORE N mutated DUMP
# payloads of every type (REF cycles too) with their checksums fixed up.
# Mutate valid DUMP payloads (checksum fixed up) and RESTORE them: the
# server must answer every one and stay up.
import random, socket, sys
port = int(sys.argv[1]); n = int(sys.argv[2]); random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
def crc64(data, _t=[]):
    if not _t:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x95ac9329ac4bc9b5 if c & 1 else c >> 1
            _t.append(c)
    crc = 0
    for b in data:
        crc = _t[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc
s = socket.create_connection(('127.0.0.1', port)); f = s.makefile('rb')
def cmd(*a):
    s.sendall(b'*%d\r\n' % len(a) + b''.join(b'$%d\r\n%s\r\n' % (len(x), x) for x in a))
    return read()
def read():
    line = f.readline()
    if not line: raise SystemExit('server closed')
    if line[:1] == b'$':
        k = int(line[1:])
        if k < 0: return None
        d = f.read(k + 2); return d[:-2]
    if line[:1] == b'*':
        return [read() for _ in range(int(line[1:]))]
    return line.strip()
setup = [[b'RPUSH', b'l'] + [b'%d' % i for i in range(50)] + [b'x' * 100],
         [b'HSET', b'h', b'a', b'1', b'b', b'hello'], [b'SADD', b's', b'1', b'2', b'x'],
         [b'ZADD', b'z', b'1', b'a', b'2', b'b'], [b'SET', b'str', b'y' * 40],
         [b'XADD', b'x', b'1-1', b'f', b'v'], [b'XGROUP', b'CREATE', b'x', b'g', b'0'],
         [b'XREADGROUP', b'GROUP', b'g', b'c', b'STREAMS', b'x', b'>'],
         [b'HSET', b'{r}a', b'f', b'v'], [b'REF.SET', b'{r}a', b'self', b'{r}a']]
for c in setup: cmd(*c)
seeds = [cmd(b'DUMP', k) for k in [b'l', b'h', b's', b'z', b'str', b'x', b'{r}a']]
seeds = [x for x in seeds if isinstance(x, bytes)]
ok = bad = 0
for i in range(n):
    p = bytearray(random.choice(seeds)[:-10])
    for _ in range(random.randint(1, 4)):
        op = random.random()
        if op < 0.5 and p: p[random.randrange(len(p))] = random.randrange(256)
        elif op < 0.7 and p: del p[random.randrange(len(p)):]
        elif op < 0.85: p.insert(random.randrange(len(p) + 1), random.randrange(256))
        elif p: p[random.randrange(len(p))] ^= 1 << random.randrange(8)
    body = bytes(p) + b'\x0a\x00'
    payload = body + crc64(body).to_bytes(8, 'little')
    r = cmd(b'RESTORE', b'fz', b'0', payload, b'REPLACE')
    if r == b'+OK':
        ok += 1
        cmd(b'TYPE', b'fz'); cmd(b'DUMP', b'fz'); cmd(b'DEL', b'fz')
    else:
        bad += 1
print('restored', ok, 'refused', bad, 'ping', cmd(b'PING'))
