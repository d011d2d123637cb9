"""py4j's sockets get TCP_NODELAY once a processor module has loaded, without a JVM."""

import socket

import pytest
from py4j import java_gateway

from ecommerce_processors.py4j_sockets import send_without_delay


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(java_gateway.GatewayConnection, "start", java_gateway.GatewayConnection.start)
    monkeypatch.setattr(java_gateway.CallbackServer, "_create_connection", java_gateway.CallbackServer._create_connection)
    monkeypatch.setattr(java_gateway, "sends_without_delay", False, raising=False)
    send_without_delay()


def no_delay(connection_socket) -> bool:
    return bool(connection_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_a_connection_to_the_jvm_sends_without_delay(patched):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        connection = java_gateway.GatewayConnection(
            java_gateway.GatewayParameters(address="127.0.0.1", port=listener.getsockname()[1]))
        connection.start()
        try:
            assert no_delay(connection.socket)
        finally:
            connection.socket.close()


def test_a_connection_from_the_jvm_answers_without_delay(patched):
    server = java_gateway.CallbackServer.__new__(java_gateway.CallbackServer)
    server.pool, server.gateway_client, server.callback_server_parameters = None, None, java_gateway.CallbackServerParameters()
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            server._create_connection(accepted, accepted.makefile("rb"))
            assert no_delay(accepted)


def test_loading_a_second_processor_module_patches_once(patched):
    start = java_gateway.GatewayConnection.start
    send_without_delay()
    assert java_gateway.GatewayConnection.start is start
