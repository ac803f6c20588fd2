"""gRPC over TLS for the ssl runner's test: `server PORT CERT KEY STUBS` or `client PORT CERT STUBS GO`."""
import sys
from concurrent import futures


def stubs(path):
    sys.path.insert(0, path)
    import greet_pb2
    import greet_pb2_grpc
    return greet_pb2, greet_pb2_grpc


def server(port, cert, key, path):
    import grpc
    pb, pb_grpc = stubs(path)

    class Greeter(pb_grpc.GreeterServicer):
        def SayHello(self, request, context):
            return pb.Reply(text="hello " + request.name)

        def Fail(self, request, context):
            context.abort(grpc.StatusCode.NOT_FOUND, "no such name")

    s = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_GreeterServicer_to_server(Greeter(), s)
    creds = grpc.ssl_server_credentials([(open(key, "rb").read(), open(cert, "rb").read())])
    s.add_secure_port("127.0.0.1:%s" % port, creds)
    s.start()
    print("ready", flush=True)
    s.wait_for_termination()


def client(port, cert, path, go):
    import grpc
    pb, pb_grpc = stubs(path)
    with open(go) as f:  # wait until the tracer runs
        f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=open(cert, "rb").read())
    with grpc.secure_channel("localhost:%s" % port, creds) as ch:
        stub = pb_grpc.GreeterStub(ch)
        print(stub.SayHello(pb.Hello(name="collector")).text, flush=True)
        try:
            stub.Fail(pb.Hello(name="nobody"))
        except grpc.RpcError as e:
            print(e.code().name, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(*sys.argv[2:6])
    else:
        client(*sys.argv[2:6])
