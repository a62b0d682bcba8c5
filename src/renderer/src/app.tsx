import { APP_NAME } from '../../shared/contract'

export function App() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>{APP_NAME}</h1>
      <p>
        Diagnostics and tuning for real-time VoIP audio: G.711, jitter buffer, PLC, echo cancellation, noise reduction.
      </p>
    </main>
  )
}
