# Closed-loop load from 8 HTTP/1.1 keep-alive clients against a running gateway (e.g. RunTestGateway);
# reports the rate and the CPU seconds the gateway JVM spent per request (from /proc/PID/stat).
# Usage: python3 cpu_per_request.py PORT GATEWAY_PID REQUESTS STREAM(0|1)
import http.client, json, threading, time, sys, os
port=int(sys.argv[1]); pid=sys.argv[2]; n=int(sys.argv[3]); stream=sys.argv[4]=='1'
body=json.dumps({"model":"glm-4-flash","messages":[{"role":"user","content":"hi"}],"stream":stream})
hdr={"Authorization":"Bearer kmain.s3cretmain","Content-Type":"application/json"}
def cpu():
    f=open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK')
cnt=[0]; lock=threading.Lock()
def worker(k):
    c=http.client.HTTPConnection("127.0.0.1",port)
    for i in range(k):
        c.request("POST","/api/paas/v4/chat/completions",body,hdr); r=c.getresponse(); d=r.read()
        assert r.status==200, (r.status,d)
        with lock: cnt[0]+=1
threads=8
# warm-up
ts=[threading.Thread(target=worker,args=(n//threads//2,)) for _ in range(threads)]; [t.start() for t in ts]; [t.join() for t in ts]
c0=cpu(); t0=time.time(); cnt[0]=0
ts=[threading.Thread(target=worker,args=(n//threads,)) for _ in range(threads)]; [t.start() for t in ts]; [t.join() for t in ts]
c1=cpu(); t1=time.time()
print(f"stream={stream} requests={cnt[0]} wall={t1-t0:.1f}s rate={cnt[0]/(t1-t0):.0f}/s gateway-JVM CPU={c1-c0:.2f}s -> {1000*(c1-c0)/cnt[0]:.2f} ms CPU per request (gateway + fake worker + fake auth)")
