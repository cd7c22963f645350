// #/statements: the workspace's monthly statements (owners): this month so far, every closed month with its amount,
// the printable statement and its CSV/JSON downloads. #/statements/:month opens one statement.
import { h, icon, mount } from '../dom';
import { errorMessage, formMessage, withBusy } from '../forms';
import { formatDateTime, formatMonth, formatUsd } from '../format';
import { workspaceId } from '../session';
import { statementsApi, type StatementSummary } from '../statements-api';
import { pageHeader, renderLoadError } from './common';

export async function renderStatements(main: HTMLElement): Promise<void> {
  document.title = 'Statements · Agent Host';
  const workspace = workspaceId();
  mount(main, pageHeader('Statements', 'Loading…'));
  let statements: StatementSummary[];
  let preview;
  try {
    [statements, preview] = await Promise.all([statementsApi.list(workspace), statementsApi.preview(workspace)]);
  } catch (error) {
    renderLoadError(main, 'Statements', error);
    return;
  }
  const message = formMessage();
  const downloadButton = (statement: StatementSummary, format: 'csv' | 'json') => {
    const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Download ${formatMonth(statement.month)} as ${format.toUpperCase()}` }, icon('download', 16), format.toUpperCase());
    button.addEventListener('click', () =>
      withBusy(button, '…', () => statementsApi.download(workspace, statement.month, format, statement.number)).catch((error) => message.show(errorMessage(error), 'error')),
    );
    return button;
  };
  const thisMonth = h(
    'section',
    { class: 'card section statement-current' },
    h('h2', { class: 'section-title' }, `${formatMonth(preview.month)} so far`),
    h('p', { class: 'statement-amount' }, formatUsd(preview.totals.amountDueUsd)),
    h(
      'p',
      { class: 'muted' },
      `Plan fees ${formatUsd(preview.totals.planFeesUsd)} · overage ${formatUsd(preview.totals.overageUsd)}${preview.totals.adjustmentsUsd ? ` · adjustments ${formatUsd(preview.totals.adjustmentsUsd)}` : ''}. `,
      'If nothing changes until the month ends, this is what its statement will say. It closes on the 1st.',
    ),
  );
  const list = statements.length
    ? h('div', { class: 'table-scroll' }, h(
        'table',
        { class: 'table statements-table table-cards' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Month'), h('th', { scope: 'col' }, 'Number'), h('th', { scope: 'col' }, 'Closed'), h('th', { scope: 'col', class: 'num' }, 'Amount due'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h(
          'tbody',
          null,
          statements.map((statement) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': 'Month' }, h('a', { href: `#/statements/${statement.month}` }, formatMonth(statement.month))),
              h('td', { 'data-label': 'Number' }, h('code', null, statement.number)),
              h('td', { 'data-label': 'Closed' }, formatDateTime(statement.closedAt)),
              h('td', { class: 'num', 'data-label': 'Amount due' }, formatUsd(statement.amountDueUsd)),
              h('td', { class: 'statement-actions' }, h('a', { class: 'btn btn-secondary btn-small', href: `#/statements/${statement.month}` }, 'Open'), downloadButton(statement, 'csv'), downloadButton(statement, 'json')),
            ),
          ),
        ),
      ))
    : h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No closed statements yet'), h('p', { class: 'muted' }, 'A statement is closed for each month on the 1st of the next one.'));
  mount(main, pageHeader('Statements', 'One per month, closed on the 1st. Closed statements never change; anything recorded late shows as an adjustment on the next one.'), h('div', { class: 'stack-lg statements-page' }, thisMonth, h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Closed months'), message.element, list)));
}

export async function renderStatement(main: HTMLElement, month: string): Promise<void> {
  document.title = `Statement ${month} · Agent Host`;
  const workspace = workspaceId();
  mount(main, pageHeader('Statement', 'Loading…'));
  let statement;
  let html: string;
  try {
    [statement, html] = await Promise.all([statementsApi.get(workspace, month), statementsApi.html(workspace, month)]);
  } catch (error) {
    renderLoadError(main, 'Statement', error);
    return;
  }
  const message = formMessage();
  // The server's printable page, shown as it prints (no scripts in it; same-origin so Print reaches it).
  const frame = h('iframe', { class: 'statement-frame', title: `Statement ${statement.number}`, sandbox: 'allow-same-origin allow-modals', srcdoc: html });
  const fit = () => {
    const body = frame.contentDocument?.documentElement;
    if (body) frame.style.height = `${body.scrollHeight + 24}px`;
  };
  frame.addEventListener('load', fit);
  const print = h('button', { type: 'button', class: 'btn btn-primary' }, 'Print');
  print.addEventListener('click', () => frame.contentWindow?.print());
  const download = (format: 'csv' | 'json') => {
    const button = h('button', { type: 'button', class: 'btn btn-secondary' }, icon('download', 16), `Download ${format.toUpperCase()}`);
    button.addEventListener('click', () => withBusy(button, 'Preparing…', () => statementsApi.download(workspace, month, format, statement.number)).catch((error) => message.show(errorMessage(error), 'error')));
    return button;
  };
  mount(
    main,
    pageHeader(`Statement ${formatMonth(month)}`, `${statement.number} · amount due ${formatUsd(statement.totals.amountDueUsd)}`, h('a', { class: 'btn btn-ghost', href: '#/statements' }, 'All statements'), download('csv'), download('json'), print),
    message.element,
    h('div', { class: 'card statement-paper' }, frame),
  );
}
