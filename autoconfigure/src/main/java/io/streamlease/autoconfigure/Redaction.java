package io.streamlease.autoconfigure;

import java.util.regex.Pattern;

/**
 * Masks credentials in texts that the health indicator and the actuator endpoint show (Redis failure messages,
 * termination reasons): the user info of URIs ({@code redis://user:secret@host}) and {@code password=...} pairs.
 */
final class Redaction {

	private static final String MASK = "******";

	private static final Pattern URI_USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^\\s/@]+@");

	private static final Pattern PASSWORD_PAIR = Pattern.compile("(?i)\\b(password|passwd|pwd|secret)(\\s*[=:]\\s*)[^\\s,;)\\]}]+");

	private Redaction() {
	}

	/**
	 * The text with credentials masked; null for null.
	 */
	static String redact(String text) {
		if (text == null) {
			return null;
		}
		String masked = URI_USER_INFO.matcher(text).replaceAll("$1" + MASK + "@");
		return PASSWORD_PAIR.matcher(masked).replaceAll("$1$2" + MASK);
	}

}
