package org.ecommercepipeline.nifi.login;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses time periods written the way NiFi configuration files write them, such as {@code 12 hours} or
 * {@code 30 mins}, without bundling NiFi utility libraries in the NAR.
 */
final class TimePeriodParser {

    private static final Pattern TIME_PERIOD_PATTERN = Pattern.compile("^(\\d+)\\s*([a-z]+)$");

    private static final Map<String, ChronoUnit> UNITS = Map.ofEntries(
            Map.entry("ms", ChronoUnit.MILLIS),
            Map.entry("milli", ChronoUnit.MILLIS),
            Map.entry("millis", ChronoUnit.MILLIS),
            Map.entry("millisecond", ChronoUnit.MILLIS),
            Map.entry("milliseconds", ChronoUnit.MILLIS),
            Map.entry("s", ChronoUnit.SECONDS),
            Map.entry("sec", ChronoUnit.SECONDS),
            Map.entry("secs", ChronoUnit.SECONDS),
            Map.entry("second", ChronoUnit.SECONDS),
            Map.entry("seconds", ChronoUnit.SECONDS),
            Map.entry("m", ChronoUnit.MINUTES),
            Map.entry("min", ChronoUnit.MINUTES),
            Map.entry("mins", ChronoUnit.MINUTES),
            Map.entry("minute", ChronoUnit.MINUTES),
            Map.entry("minutes", ChronoUnit.MINUTES),
            Map.entry("h", ChronoUnit.HOURS),
            Map.entry("hr", ChronoUnit.HOURS),
            Map.entry("hrs", ChronoUnit.HOURS),
            Map.entry("hour", ChronoUnit.HOURS),
            Map.entry("hours", ChronoUnit.HOURS),
            Map.entry("d", ChronoUnit.DAYS),
            Map.entry("day", ChronoUnit.DAYS),
            Map.entry("days", ChronoUnit.DAYS)
    );

    private TimePeriodParser() {
    }

    /**
     * Parse a positive time period
     *
     * @param timePeriod Amount followed by a unit, such as {@code 1 hour}
     * @return Duration of the time period
     * @throws IllegalArgumentException Thrown when the time period cannot be parsed or is not positive
     */
    static Duration parse(final String timePeriod) {
        final String normalized = timePeriod == null ? "" : timePeriod.trim().toLowerCase(Locale.ROOT);
        final Matcher matcher = TIME_PERIOD_PATTERN.matcher(normalized);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("Time period [%s] must be an amount followed by a unit, such as 12 hours".formatted(timePeriod));
        }

        final ChronoUnit unit = UNITS.get(matcher.group(2));
        if (unit == null) {
            throw new IllegalArgumentException("Time period [%s] unit not supported: use ms, secs, mins, hours or days".formatted(timePeriod));
        }

        final long millis;
        try {
            millis = Duration.of(Long.parseLong(matcher.group(1)), unit).toMillis();
        } catch (final NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("Time period [%s] too large".formatted(timePeriod), e);
        }
        if (millis == 0) {
            throw new IllegalArgumentException("Time period [%s] must be greater than zero".formatted(timePeriod));
        }
        return Duration.ofMillis(millis);
    }
}
