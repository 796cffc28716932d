package io.streamlease.test.redis;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link KeySlot}, with slots from the Redis Cluster specification.
 */
class KeySlotTests {

	@Test
	void hashesTheWholeKeyWithoutHashTag() {
		assertThat(KeySlot.of("foo")).isEqualTo(12182);
		assertThat(KeySlot.of("bar")).isEqualTo(5061);
		assertThat(KeySlot.of("")).isZero();
	}

	@Test
	void hashesOnlyTheFirstNonEmptyHashTag() {
		assertThat(KeySlot.of("{user1000}.following")).isEqualTo(KeySlot.of("{user1000}.followers"))
			.isEqualTo(KeySlot.of("user1000"));
		assertThat(KeySlot.of("foo{}{bar}")).isEqualTo(KeySlot.of("foo{}{bar}x".substring(0, 10)))
			.isNotEqualTo(KeySlot.of("bar"));
		assertThat(KeySlot.of("foo{{bar}}zap")).isEqualTo(KeySlot.of("{bar"));
		assertThat(KeySlot.of("foo{bar}{zap}")).isEqualTo(KeySlot.of("bar"));
	}

}
