# Writes the golden reply bytes of tests/golden_replies.rs (built per rdma_netlink.h, see there).
import struct
def attr(t, payload):
    l = 4 + len(payload)
    b = struct.pack('<HH', l, t) + payload
    return b + b'\0' * ((4 - len(b) % 4) % 4)
u32=lambda t,v: attr(t, struct.pack('<I', v))
u64=lambda t,v: attr(t, struct.pack('<Q', v))
u8=lambda t,v: attr(t, bytes([v]))
s=lambda t,v: attr(t, v.encode()+b'\0')
def msg(typ, flags, seq, body):
    return struct.pack('<IHHII', 16+len(body), typ, flags, seq, 0) + body
def dev(i, name, guid):
    return (u32(1,i)+s(2,name)+u32(3,1)+u64(4,0x1c26)+s(5,'16.35.2000')+u64(6,guid)+u64(7,guid)+u8(14,1)+u8(84,1)+s(67,'roce'))
SEQ=0x6b10354a
d0=dev(0,'mlx5_0',0x0c42a1030016054c); d1=dev(1,'mlx5_1',0x0c42a1030016054d)
dump = msg(0x1401,2,SEQ,d0)+msg(0x1401,2,SEQ,d1)+msg(3,2,SEQ,struct.pack('<i',0))
port = u32(1,0)+s(2,'mlx5_0')+u32(3,1)+u64(4,0x04010000)+u8(12,4)+u8(13,5)+u32(50,4)+s(51,'ens2f0')
portmsg = msg(0x1405,0,SEQ,port)
sysb = u8(66,0)+u8(93,1)
sysmsg = msg(0x1406,0,SEQ,sysb)
def lit(b):
    out=[]
    for i in range(0,len(b),16):
        out.append('    '+', '.join('0x%02x'%x for x in b[i:i+16])+',')
    return '\n'.join(out)
for n,b in [('DEV_DUMP',dump),('PORT',portmsg),('SYS',sysmsg)]:
    print(n, len(b)); print(lit(b))
