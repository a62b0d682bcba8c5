/**
 * Theme colours for canvases. The CSS variables of styles.css are the one source of colour; a canvas cannot use
 * `var(--x)`, so the draw callbacks ask `themeColours()`, which reads the variables with getComputedStyle once per
 * theme and then returns the same object until the theme changes. The theme applied is the `data-theme` attribute
 * App sets on <html> from the store's theme (no attribute: the dark default of :root), so the colours always match
 * what the CSS shows, even in the frame between a store change and the attribute update.
 */

export interface ThemeColours {
  /** The key the colours were read for ('light', 'dark' or 'default'). */
  theme: string
  canvasBg: string
  canvasAxis: string
  canvasText: string
  muted: string
  accent: string
  warn: string
  danger: string
  near: string
  far: string
  processed: string
  clip: string
  chart1: string
  chart2: string
  chart3: string
  chart4: string
  chart5: string
  chartGrid: string
}

const VARIABLES: Record<Exclude<keyof ThemeColours, 'theme'>, string> = {
  canvasBg: '--canvas-bg',
  canvasAxis: '--canvas-axis',
  canvasText: '--canvas-text',
  muted: '--muted',
  accent: '--accent',
  warn: '--warn',
  danger: '--danger',
  near: '--near',
  far: '--far',
  processed: '--processed',
  clip: '--clip',
  chart1: '--chart-1',
  chart2: '--chart-2',
  chart3: '--chart-3',
  chart4: '--chart-4',
  chart5: '--chart-5',
  chartGrid: '--chart-grid',
}

/** Used where a variable is missing (a test page without styles.css). */
const FALLBACK = '#808080'

let cached: ThemeColours | null = null

/** The current theme's canvas colours; the same object until the theme changes (compare by identity to redraw). */
export function themeColours(): ThemeColours {
  const root = document.documentElement
  const theme = root.dataset['theme'] ?? 'default'
  if (cached !== null && cached.theme === theme) return cached
  const style = getComputedStyle(root)
  const colours = { theme } as ThemeColours
  for (const [key, variable] of Object.entries(VARIABLES) as [keyof typeof VARIABLES, string][])
    colours[key] = style.getPropertyValue(variable).trim() || FALLBACK
  cached = colours
  return colours
}
