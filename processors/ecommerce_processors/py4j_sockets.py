"""py4j's sockets in a processor's Python process without Nagle's algorithm (TCP_NODELAY).

NiFi 2.3.0 bundles py4j 0.10.9.9, which leaves Nagle's algorithm on for its sockets (py4j
sets TCP_NODELAY only in an unreleased version). A message that leaves in more than one TCP
segment can then wait for the peer's delayed acknowledgement, up to 40 ms on Linux, and every
call between NiFi and a processor is such a request and answer. This sets TCP_NODELAY on the
sockets the process already has (the gateway's, which NiFi's launcher keeps in `__main__`) and
on each one py4j opens from now on: calls to the JVM and the JVM's calls into Python.
"""

import socket

from py4j import java_gateway


def _without_delay(connection_socket) -> None:
    try:
        connection_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # closed meanwhile, or not a TCP socket
        pass


def send_without_delay() -> None:
    """Idempotent: the first processor module loaded in a process does the work."""
    if getattr(java_gateway, "sends_without_delay", False):
        return
    start = java_gateway.GatewayConnection.start
    create_connection = java_gateway.CallbackServer._create_connection

    def start_without_delay(self):
        start(self)
        _without_delay(self.socket)

    def create_connection_without_delay(self, socket_instance, stream):
        _without_delay(socket_instance)
        return create_connection(self, socket_instance, stream)

    java_gateway.GatewayConnection.start = start_without_delay
    java_gateway.CallbackServer._create_connection = create_connection_without_delay
    java_gateway.sends_without_delay = True

    import __main__  # NiFi's Controller.py, run as the main module, holds the process's gateway

    gateway = getattr(__main__, "gateway", None)
    if isinstance(gateway, java_gateway.JavaGateway):
        for connection in list(gateway._gateway_client.deque):
            _without_delay(connection.socket)
        server = gateway.get_callback_server()
        for connection in list(server.connections) if server is not None else []:
            _without_delay(connection.socket)
