package org.ecommercepipeline.nifi.login;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimePeriodParserTest {

    @Test
    void testParseHours() {
        assertEquals(Duration.ofHours(12), TimePeriodParser.parse("12 hours"));
        assertEquals(Duration.ofHours(1), TimePeriodParser.parse("1 hour"));
        assertEquals(Duration.ofHours(8), TimePeriodParser.parse(" 8 HRS "));
    }

    @Test
    void testParseOtherUnits() {
        assertEquals(Duration.ofMinutes(30), TimePeriodParser.parse("30 mins"));
        assertEquals(Duration.ofSeconds(45), TimePeriodParser.parse("45secs"));
        assertEquals(Duration.ofDays(1), TimePeriodParser.parse("1 day"));
        assertEquals(Duration.ofMillis(500), TimePeriodParser.parse("500 ms"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "hours", "12", "-1 hours", "1.5 hours", "0 mins", "12 weeks", "99999999999999999999 days"})
    void testParseNotValid(final String timePeriod) {
        assertThrows(IllegalArgumentException.class, () -> TimePeriodParser.parse(timePeriod));
    }
}
