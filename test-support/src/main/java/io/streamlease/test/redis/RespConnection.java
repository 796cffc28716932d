package io.streamlease.test.redis;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal RESP2 client over one plain socket: just enough to set up, inspect and probe test servers.
 * Replies map to {@link String} (simple and bulk strings), {@link Long}, {@link List} and {@code null}.
 */
final class RespConnection implements Closeable {

	private final Socket socket;

	private final InputStream in;

	private final OutputStream out;

	private final String address;

	private RespConnection(Socket socket, String address) throws IOException {
		this.socket = socket;
		this.in = new BufferedInputStream(socket.getInputStream());
		this.out = socket.getOutputStream();
		this.address = address;
	}

	/**
	 * Connect with the given timeout, which also bounds every later read.
	 */
	static RespConnection open(String host, int port, Duration timeout) throws IOException {
		int millis = (int) Math.max(1, timeout.toMillis());
		Socket socket = new Socket();
		try {
			socket.setTcpNoDelay(true);
			socket.connect(new InetSocketAddress(host, port), millis);
			socket.setSoTimeout(millis);
			return new RespConnection(socket, host + ":" + port);
		}
		catch (IOException | RuntimeException ex) {
			socket.close();
			throw ex;
		}
	}

	/**
	 * Send one command and read its reply.
	 * @throws RedisReplyException if Redis answers with an error
	 */
	Object call(String... args) throws IOException {
		write(args);
		Object reply = read();
		if (reply instanceof RedisReplyException error) {
			throw new RedisReplyException(error.errorReply(), "reply to " + args[0] + " from " + this.address);
		}
		return reply;
	}

	private void write(String... args) throws IOException {
		ByteArrayOutputStream buffer = new ByteArrayOutputStream();
		buffer.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
		for (String arg : args) {
			byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
			buffer.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
			buffer.writeBytes(bytes);
			buffer.writeBytes(new byte[] { '\r', '\n' });
		}
		this.out.write(buffer.toByteArray());
		this.out.flush();
	}

	private Object read() throws IOException {
		int type = this.in.read();
		if (type == -1) {
			throw new EOFException("Connection to Redis at " + this.address + " closed before a reply");
		}
		String line = readLine();
		switch (type) {
			case '+':
				return line;
			case '-':
				return new RedisReplyException(line, null);
			case ':':
				return Long.parseLong(line);
			case '$':
				return readBulk(Integer.parseInt(line));
			case '*':
				int count = Integer.parseInt(line);
				if (count < 0) {
					return null;
				}
				List<Object> elements = new ArrayList<>(count);
				for (int i = 0; i < count; i++) {
					elements.add(read());
				}
				return elements;
			default:
				throw new IOException("Unexpected RESP type '" + (char) type + "' from Redis at " + this.address);
		}
	}

	private String readBulk(int length) throws IOException {
		if (length < 0) {
			return null;
		}
		byte[] bytes = this.in.readNBytes(length);
		if (bytes.length < length || this.in.read() != '\r' || this.in.read() != '\n') {
			throw new EOFException("Connection to Redis at " + this.address + " closed inside a bulk reply");
		}
		return new String(bytes, StandardCharsets.UTF_8);
	}

	private String readLine() throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		int previous = -1;
		while (true) {
			int next = this.in.read();
			if (next == -1) {
				throw new EOFException("Connection to Redis at " + this.address + " closed inside a reply");
			}
			if (previous == '\r' && next == '\n') {
				byte[] bytes = line.toByteArray();
				return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
			}
			line.write(next);
			previous = next;
		}
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

}
