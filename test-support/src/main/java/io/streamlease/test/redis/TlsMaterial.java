package io.streamlease.test.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost, made with the
 * {@code openssl} command, for tests of TLS connections. Pass {@link #serverConfig(RedisServerSpec, int)} to a
 * server spec; clients trust {@link #caCertificate()}.
 *
 * @param directory where the files are
 * @param caCertificate the CA certificate (PEM)
 * @param serverCertificate the server certificate (PEM), signed by the CA
 * @param serverKey the server's private key (PEM)
 */
public record TlsMaterial(Path directory, Path caCertificate, Path serverCertificate, Path serverKey) {

	/**
	 * Makes a new CA and a server certificate signed by it.
	 * @throws IllegalStateException if openssl is missing or fails
	 */
	public static TlsMaterial generate() {
		try {
			Path directory = Files.createTempDirectory("stream-lease-tls");
			Path caKey = directory.resolve("ca.key");
			Path ca = directory.resolve("ca.crt");
			Path key = directory.resolve("server.key");
			Path request = directory.resolve("server.csr");
			Path certificate = directory.resolve("server.crt");
			Path extensions = directory.resolve("server.ext");
			Files.writeString(extensions, "subjectAltName=IP:127.0.0.1,DNS:localhost\n", StandardCharsets.UTF_8);
			openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(), "-out",
					ca.toString(), "-days", "2", "-subj", "/CN=stream-lease-test-ca");
			openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", request.toString(),
					"-subj", "/CN=localhost");
			openssl(directory, "x509", "-req", "-in", request.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
					"-CAcreateserial", "-out", certificate.toString(), "-days", "2", "-extfile", extensions.toString());
			return new TlsMaterial(directory, ca, certificate, key);
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not create test certificates: " + ex.getMessage(), ex);
		}
	}

	/**
	 * The spec with a TLS port added (the plain port stays, for {@link RedisServer#command}); clients need no
	 * certificate of their own.
	 */
	public RedisServerSpec serverConfig(RedisServerSpec spec, int tlsPort) {
		return spec.config("tls-port", Integer.toString(tlsPort))
			.config("tls-cert-file", this.serverCertificate.toString())
			.config("tls-key-file", this.serverKey.toString())
			.config("tls-ca-cert-file", this.caCertificate.toString())
			.config("tls-auth-clients", "no");
	}

	private static void openssl(Path directory, String... arguments) throws IOException {
		List<String> command = new java.util.ArrayList<>();
		command.add("openssl");
		command.addAll(List.of(arguments));
		Process process;
		try {
			process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
		}
		catch (IOException ex) {
			throw new IllegalStateException("TLS tests need the openssl command on the PATH: " + ex.getMessage(), ex);
		}
		try {
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
				throw new IllegalStateException("openssl " + String.join(" ", arguments) + " failed: " + output);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while running openssl", ex);
		}
	}

}
