package io.streamlease.autoconfigure;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Credentials never reach the health details or the endpoint.
 */
class RedactionTests {

	@Test
	void masksTheUserInfoOfUris() {
		assertThat(Redaction.redact("Unable to connect to rediss://app:s3cret@cache.example:6380 (timeout)"))
			.isEqualTo("Unable to connect to rediss://******@cache.example:6380 (timeout)");
		assertThat(Redaction.redact("redis://:s3cret@10.0.0.1:6379/2")).isEqualTo("redis://******@10.0.0.1:6379/2");
	}

	@Test
	void masksPasswordPairs() {
		assertThat(Redaction.redact("AUTH failed, password=s3cret; user app"))
			.isEqualTo("AUTH failed, password=******; user app");
		assertThat(Redaction.redact("secret: hunter2")).isEqualTo("secret: ******");
	}

	@Test
	void leavesOtherTextAlone() {
		String text = "renewal timed out after 250 ms on 127.0.0.1/127.0.0.1:6390, fencing token 7";
		assertThat(Redaction.redact(text)).isEqualTo(text);
		assertThat(Redaction.redact(null)).isNull();
	}

}
