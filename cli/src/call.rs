//! `bella call`: talk to a running Bella from the terminal, playing Twilio's part. Each line read
//! is what the caller says; `#1234` keys digits; an empty line is silence; end of input hangs up.

// Printing to standard output is what a command-line tool is for.
#![allow(clippy::print_stdout)]

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use adapters::config::{DevTokens, state_dir};
use anyhow::Context as _;
use secrecy::SecretString;

use crate::simulator::{End, Input, Simulator, Spoken};

/// The token `bella call` signs with: `TWILIO_AUTH_TOKEN`, or the development token.
fn auth_token() -> anyhow::Result<SecretString> {
    if let Ok(token) = std::env::var("TWILIO_AUTH_TOKEN")
        && !token.is_empty()
    {
        return Ok(SecretString::from(token));
    }
    let dir = state_dir(&|name: &str| std::env::var(name).ok().filter(|v| !v.is_empty()));
    DevTokens::load(&dir).map(|t| t.twilio_auth_token).with_context(|| {
        format!(
            "no Twilio auth token: set TWILIO_AUTH_TOKEN to the server's token (no development token in {})",
            dir.display()
        )
    })
}

/// Places a call from `from` to `to` on the Bella at `url`, the terminal being the caller.
pub async fn run(from: &str, to: &str, url: &str) -> anyhow::Result<()> {
    let mut sim = Simulator::new(url, auth_token()?, from, to)?;
    let interactive = std::io::stdin().is_terminal();
    println!("calling {url} as {from} (CallSid {})", sim.call_sid());
    let mut heard = sim.dial().await?;
    let mut lines = std::io::stdin().lock().lines();
    loop {
        print_heard(&heard);
        if let Some(end) = &heard.end {
            match end {
                End::Transfer(number) => println!("[transferred to {number}]"),
                End::Hangup | End::Finished => println!("[Bella hung up]"),
            }
            break;
        }
        if interactive {
            print!("you> ");
            std::io::stdout().flush().ok();
        }
        let Some(line) = lines.next().transpose()? else {
            println!("[you hung up]");
            break;
        };
        let input = Input::from_line(&line);
        if !interactive {
            match &input {
                Input::Speech(s) => println!("you: {s}"),
                Input::Digits(d) => println!("you: (keys {d})"),
                Input::Silence => println!("you: (silence)"),
            }
        }
        heard = sim.respond(input).await?;
    }
    sim.hang_up().await?;
    Ok(())
}

fn print_heard(heard: &Spoken) {
    for line in &heard.said {
        println!("bella: {line}");
    }
}
