/**
 * The fixed vocabulary of the synthetic marketplace: product categories, the search queries that
 * express an intent for each, devices and advertiser name parts. Kept apart from the random draws so
 * that the docs (docs/data.md) and the tests can refer to the same lists.
 */

export interface Category {
  /** The value written to `ads.category`, `impressions.query_category` and `impressions.ad_category`. */
  readonly name: string;
  /** Relative share of search traffic and of advertisers. */
  readonly popularity: number;
  /** Median product price in dollars (prices are log-normal around it). */
  readonly medianPrice: number;
  /** Base search phrases with this category intent; queries add optional modifiers to them. */
  readonly queries: readonly string[];
}

export const CATEGORIES: readonly Category[] = [
  { name: 'electronics', popularity: 12, medianPrice: 60, queries: ['wireless earbuds', 'bluetooth speaker', 'usb c charger', 'power bank', 'smart watch', 'noise cancelling headphones', 'hdmi cable', 'action camera', 'soundbar', 'fitness tracker', 'portable projector', 'streaming stick'] },
  { name: 'computers', popularity: 7, medianPrice: 110, queries: ['laptop stand', 'mechanical keyboard', 'wireless mouse', 'external ssd', 'usb hub', '27 inch monitor', 'webcam', 'docking station', 'laptop sleeve', 'graphics tablet', 'wifi router', 'usb flash drive'] },
  { name: 'phones', popularity: 8, medianPrice: 25, queries: ['iphone case', 'screen protector', 'android phone', 'phone holder', 'magsafe wallet', 'lightning cable', 'phone grip', 'phone tripod', 'selfie stick', 'battery case', 'ring light', 'sim card adapter'] },
  { name: 'home_kitchen', popularity: 11, medianPrice: 35, queries: ['air fryer', 'coffee maker', 'nonstick pan', 'knife set', 'blender', 'food storage containers', 'electric kettle', 'cutting board', 'vacuum cleaner', 'bed sheets queen', 'bath towels', 'water filter pitcher'] },
  { name: 'furniture', popularity: 4, medianPrice: 150, queries: ['office chair', 'standing desk', 'bookshelf', 'tv stand', 'bed frame', 'accent chair', 'nightstand', 'shoe rack', 'sofa cover', 'bar stools', 'dining table', 'storage ottoman'] },
  { name: 'clothing', popularity: 10, medianPrice: 30, queries: ['mens t shirts', 'womens leggings', 'hoodie', 'winter jacket', 'jeans', 'running shorts', 'summer dress', 'socks pack', 'rain jacket', 'pajama set', 'flannel shirt', 'wool sweater'] },
  { name: 'shoes', popularity: 7, medianPrice: 70, queries: ['running shoes', 'hiking boots', 'slippers', 'white sneakers', 'sandals', 'basketball shoes', 'work boots', 'trail running shoes', 'dress shoes', 'kids shoes', 'rain boots', 'slip on shoes'] },
  { name: 'beauty', popularity: 8, medianPrice: 18, queries: ['vitamin c serum', 'moisturizer', 'sunscreen spf 50', 'hair dryer', 'lipstick', 'shampoo', 'makeup brushes', 'nail polish', 'retinol cream', 'perfume', 'face wash', 'eyelash curler'] },
  { name: 'health', popularity: 6, medianPrice: 20, queries: ['vitamin d', 'protein powder', 'fish oil', 'electric toothbrush', 'blood pressure monitor', 'melatonin', 'first aid kit', 'multivitamin', 'thermometer', 'massage gun', 'knee brace', 'probiotics'] },
  { name: 'sports_outdoors', popularity: 6, medianPrice: 45, queries: ['yoga mat', 'dumbbells', 'camping tent', 'resistance bands', 'water bottle', 'bike helmet', 'sleeping bag', 'jump rope', 'hiking backpack', 'fishing rod', 'kettlebell', 'foam roller'] },
  { name: 'toys_games', popularity: 6, medianPrice: 25, queries: ['lego set', 'board games', 'puzzle 1000 pieces', 'rc car', 'dollhouse', 'stuffed animal', 'card game', 'building blocks', 'nerf blaster', 'play dough', 'science kit', 'toy kitchen'] },
  { name: 'books', popularity: 5, medianPrice: 15, queries: ['mystery novels', 'cookbook', 'self help books', 'childrens books', 'fantasy series', 'biography', 'sci fi books', 'coloring book', 'history books', 'romance novels', 'graphic novels', 'poetry collection'] },
  { name: 'grocery', popularity: 6, medianPrice: 12, queries: ['coffee beans', 'green tea', 'protein bars', 'olive oil', 'snack variety pack', 'almonds', 'dark chocolate', 'sparkling water', 'pasta', 'hot sauce', 'oatmeal', 'honey'] },
  { name: 'pet_supplies', popularity: 5, medianPrice: 22, queries: ['dog food', 'cat litter', 'dog bed', 'cat tree', 'dog leash', 'pet hair remover', 'chew toys', 'aquarium filter', 'bird feeder', 'cat toys', 'dog harness', 'flea treatment'] },
  { name: 'automotive', popularity: 3, medianPrice: 35, queries: ['car phone mount', 'tire inflator', 'car vacuum', 'jump starter', 'car seat covers', 'wiper blades', 'motor oil', 'floor mats', 'led headlights', 'car wax', 'tire pressure gauge', 'trunk organizer'] },
  { name: 'baby', popularity: 4, medianPrice: 30, queries: ['diapers', 'baby wipes', 'stroller', 'baby monitor', 'infant car seat', 'high chair', 'baby bottles', 'swaddle blanket', 'teething toys', 'diaper bag', 'baby carrier', 'crib mattress'] },
];

/**
 * Query variants: a base phrase with an optional prefix and suffix ("best wireless earbuds on sale").
 * The weights make the bare phrase the most common form, as in real search logs.
 */
export const QUERY_PREFIXES: readonly { text: string; weight: number }[] = [
  { text: '', weight: 0.6 },
  { text: 'best ', weight: 0.15 },
  { text: 'cheap ', weight: 0.1 },
  { text: 'top rated ', weight: 0.08 },
  { text: 'buy ', weight: 0.07 },
];
export const QUERY_SUFFIXES: readonly { text: string; weight: number }[] = [
  { text: '', weight: 0.8 },
  { text: ' on sale', weight: 0.1 },
  { text: ' reviews', weight: 0.1 },
];

/** Devices, in the order of their codes. */
export const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
export type Device = (typeof DEVICES)[number];
/** Share of users whose primary device is each of DEVICES. */
export const DEVICE_MIX = [0.58, 0.32, 0.1] as const;

/** Advertiser tiers, in the order of their codes, with their share of advertisers and relative number of ads. */
export const TIERS = ['small', 'mid', 'large'] as const;
export const TIER_SHARE = [0.7, 0.22, 0.08] as const;
export const TIER_ADS_WEIGHT = [1, 4, 15] as const;

export const NAME_ROOTS = [
  'Northwind', 'Bluepeak', 'Redwood', 'Silverline', 'Brightway', 'Oakridge', 'Sunfield', 'Ironbark', 'Clearwater', 'Maple',
  'Summit', 'Harbor', 'Evergreen', 'Stonebridge', 'Lumen', 'Cobalt', 'Willow', 'Granite', 'Horizon', 'Falcon',
  'Copper', 'Juniper', 'Aster', 'Pinecrest', 'Riverside', 'Nimbus', 'Vertex', 'Halcyon', 'Kestrel', 'Meridian',
  'Solstice', 'Tidewater', 'Crescent', 'Alder', 'Beacon', 'Driftwood', 'Foxglove', 'Larkspur', 'Orchard', 'Quarry',
];
export const NAME_NOUNS = [
  'Audio', 'Home', 'Outfitters', 'Labs', 'Goods', 'Supply', 'Brands', 'Gear', 'Living', 'Kitchen',
  'Apparel', 'Tech', 'Pets', 'Naturals', 'Works', 'Trading', 'Essentials', 'Craft', 'Studio', 'Market',
];
export const NAME_SUFFIXES = ['', ' Co.', ' Inc.', ' LLC', ' Direct'];
